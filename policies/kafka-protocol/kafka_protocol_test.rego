package paystream.kafka_protocol_test

import rego.v1

import data.paystream.kafka_protocol

objects(ns, env) := [
	{"kind": "Deployment", "metadata": {"name": "paystream-payments", "namespace": ns}, "spec": {"template": {"spec": {"containers": [{"name": "payments", "envFrom": [{"configMapRef": {"name": "cfg"}}]}]}}}},
	{"kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns}, "data": env},
]

denials(ns, env) := d if {
	d := kafka_protocol.deny with input as {"objects": objects(ns, env)}
}

test_sasl_ssl_in_production_is_allowed if {
	count(denials("paystream", {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})) == 0
}

test_ssl_in_production_is_allowed if {
	count(denials("paystream", {"KAFKA_SECURITY_PROTOCOL": "SSL"})) == 0
}

test_plaintext_in_production_is_denied if {
	denials("payments-prod", {"KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}) == {"Deployment payments-prod/paystream-payments: container payments: KAFKA_SECURITY_PROTOCOL=PLAINTEXT (from ConfigMap cfg) is unencrypted; only dev namespaces may use it, use SASL_SSL or SSL"}
}

test_sasl_plaintext_lower_case_in_production_is_denied if {
	d := denials("paystream", {"KAFKA_SECURITY_PROTOCOL": "sasl_plaintext"})
	count(d) == 1
}

test_insecure_dev_switch_in_production_is_denied if {
	denials("paystream", {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "PAYSTREAM_ALLOW_INSECURE_DEV": "true"}) == {"Deployment paystream/paystream-payments: container payments: PAYSTREAM_ALLOW_INSECURE_DEV=true (from ConfigMap cfg) is for development namespaces only"}
}

test_plaintext_in_dev_namespaces_is_allowed if {
	env := {"KAFKA_SECURITY_PROTOCOL": "PLAINTEXT", "PAYSTREAM_ALLOW_INSECURE_DEV": "true"}
	count(denials("dev", env)) == 0
	count(denials("dev-alice", env)) == 0
	count(denials("payments-dev", env)) == 0
}

test_literal_env_is_checked_too if {
	obj := {"kind": "Deployment", "metadata": {"name": "w", "namespace": "paystream"}, "spec": {"template": {"spec": {"containers": [{"name": "w", "env": [{"name": "KAFKA_SECURITY_PROTOCOL", "value": "PLAINTEXT"}]}]}}}}
	d := kafka_protocol.deny with input as {"objects": [obj]}
	d == {"Deployment paystream/w: container w: KAFKA_SECURITY_PROTOCOL=PLAINTEXT (from env) is unencrypted; only dev namespaces may use it, use SASL_SSL or SSL"}
}
