package paystream.no_plain_secrets_test

import rego.v1

import data.paystream.no_plain_secrets

deployment(container) := {"kind": "Deployment", "metadata": {"name": "paystream-payments", "namespace": "paystream"}, "spec": {"template": {"spec": {"containers": [container]}}}}

config_map(data) := {"kind": "ConfigMap", "metadata": {"name": "paystream-payments", "namespace": "paystream"}, "data": data}

denials(objects) := d if {
	d := no_plain_secrets.deny with input as {"objects": objects}
}

prefix := "Deployment paystream/paystream-payments: container payments: "

test_secret_files_and_secret_key_refs_are_allowed if {
	c := {"name": "payments", "envFrom": [{"configMapRef": {"name": "paystream-payments"}}], "env": [
		{"name": "SCHEMA_REGISTRY_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "sr", "key": "password"}}},
		{"name": "KAFKA_USERNAME", "value": "paystream-payments"},
	]}
	cm := config_map({"KAFKA_PASSWORD_FILE": "/var/run/secrets/paystream/kafka/password", "KAFKA_CLIENT_KEY_FILE": "/var/run/secrets/k/tls.key"})
	count(denials([deployment(c), cm])) == 0
}

test_literal_password_env_is_denied if {
	c := {"name": "payments", "env": [{"name": "KAFKA_SASL_PASSWORD", "value": "hunter2"}]}
	denials([deployment(c)]) == {concat("", [prefix, "env KAFKA_SASL_PASSWORD is a credential in plain text (from env); mount it from a Secret as a *_FILE or use valueFrom.secretKeyRef"])}
}

test_password_in_config_map_loaded_by_env_from_is_denied if {
	c := {"name": "payments", "envFrom": [{"configMapRef": {"name": "paystream-payments"}}]}
	d := denials([deployment(c), config_map({"API_TOKEN": "abc"})])
	d == {concat("", [prefix, "env API_TOKEN is a credential in plain text (from ConfigMap paystream-payments); mount it from a Secret as a *_FILE or use valueFrom.secretKeyRef"])}
}

test_credential_from_config_map_key_ref_is_denied if {
	c := {"name": "payments", "env": [{"name": "PRIVATE_KEY", "valueFrom": {"configMapKeyRef": {"name": "keys", "key": "k"}}}]}
	denials([deployment(c)]) == {concat("", [prefix, "env PRIVATE_KEY is a credential taken from ConfigMap keys; use valueFrom.secretKeyRef or a secret file"])}
}

test_unrelated_config_map_is_not_attributed if {
	c := {"name": "payments", "envFrom": [{"configMapRef": {"name": "paystream-payments"}}]}
	other := {"kind": "ConfigMap", "metadata": {"name": "other", "namespace": "paystream"}, "data": {"PASSWORD": "x"}}
	count(denials([deployment(c), config_map({}), other])) == 0
}
