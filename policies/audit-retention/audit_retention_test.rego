package paystream.audit_retention_test

import rego.v1

import data.paystream.audit_retention

topic(name, config) := {"kind": "KafkaTopic", "metadata": {"name": name, "namespace": "paystream"}, "spec": {"topicName": name, "config": config}}

denials(name, config) := d if {
	d := audit_retention.deny with input as {"objects": [topic(name, config)]}
}

test_seven_years_is_allowed if {
	count(denials("audit.payment-events", {"retention.ms": 220924800000})) == 0
}

test_forever_is_allowed if {
	count(denials("audit.payment-events", {"retention.ms": "-1"})) == 0
}

test_thirty_days_is_denied if {
	denials("audit.payment-events", {"retention.ms": 2592000000}) == {"KafkaTopic paystream/audit.payment-events: audit topic audit.payment-events must retain records for 7 years (retention.ms -1 or >= 220903200000), has retention.ms 2592000000"}
}

test_unset_retention_is_denied if {
	count(denials("audit.compliance-alerts", {})) == 1
}

test_retention_bytes_is_denied if {
	denials("audit.payment-events", {"retention.ms": -1, "retention.bytes": 1073741824}) == {"KafkaTopic paystream/audit.payment-events: audit topic audit.payment-events must not set retention.bytes (1073741824): size-based deletion defeats the 7-year retention"}
}

test_non_audit_topics_are_not_checked if {
	count(denials("payments.payment-requested", {"retention.ms": 86400000})) == 0
}
