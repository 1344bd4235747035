# Credentials never appear as plain environment values: a variable whose name says it holds a
# password, secret, token or key must come from a Secret (`valueFrom.secretKeyRef`) or, as the
# paystream runtime expects, be a `*_FILE` path to a mounted secret file. Values loaded from a
# ConfigMap through `envFrom` count as plain values.
package paystream.no_plain_secrets

import rego.v1

import data.paystream.lib.kubernetes as k8s

# Names that announce a credential.
credential_name(name) if regex.match(`(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|SASL_JAAS)`, upper(name))

# `*_FILE` variables hold the path of a mounted secret, never the secret.
is_file_reference(name) if endswith(upper(name), "_FILE")

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	some name, entry in k8s.plain_env(obj, c)
	credential_name(name)
	not is_file_reference(name)
	msg := sprintf("%s: env %s is a credential in plain text (from %s); mount it from a Secret as a *_FILE or use valueFrom.secretKeyRef", [k8s.container_ref(obj, c), name, entry.source])
}

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	some e in object.get(c, "env", [])
	credential_name(e.name)
	e.valueFrom.configMapKeyRef
	msg := sprintf("%s: env %s is a credential taken from ConfigMap %s; use valueFrom.secretKeyRef or a secret file", [k8s.container_ref(obj, c), e.name, e.valueFrom.configMapKeyRef.name])
}
