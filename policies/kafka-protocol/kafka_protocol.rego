# Kafka clients are encrypted outside development namespaces: KAFKA_SECURITY_PROTOCOL must not be
# PLAINTEXT or SASL_PLAINTEXT, and PAYSTREAM_ALLOW_INSECURE_DEV must not be on, except in a
# namespace named `dev`, `dev-*` or `*-dev`. Both env values and envFrom ConfigMaps count.
package paystream.kafka_protocol

import rego.v1

import data.paystream.lib.kubernetes as k8s

insecure_protocols := {"PLAINTEXT", "SASL_PLAINTEXT"}

deny contains msg if {
	some obj in k8s.workloads
	not k8s.dev_namespace(k8s.namespace(obj))
	some c in k8s.containers(obj)
	entry := k8s.plain_env(obj, c).KAFKA_SECURITY_PROTOCOL
	upper(entry.value) in insecure_protocols
	msg := sprintf("%s: KAFKA_SECURITY_PROTOCOL=%s (from %s) is unencrypted; only dev namespaces may use it, use SASL_SSL or SSL", [k8s.container_ref(obj, c), entry.value, entry.source])
}

deny contains msg if {
	some obj in k8s.workloads
	not k8s.dev_namespace(k8s.namespace(obj))
	some c in k8s.containers(obj)
	entry := k8s.plain_env(obj, c).PAYSTREAM_ALLOW_INSECURE_DEV
	lower(entry.value) in {"true", "1", "yes"}
	msg := sprintf("%s: PAYSTREAM_ALLOW_INSECURE_DEV=%s (from %s) is for development namespaces only", [k8s.container_ref(obj, c), entry.value, entry.source])
}
