package paystream.strimzi_topic_test

import rego.v1

import data.paystream.strimzi_topic

topic(spec) := {"kind": "KafkaTopic", "metadata": {"name": "payments.payment-requested", "namespace": "paystream"}, "spec": spec}

denials(spec) := d if {
	d := strimzi_topic.deny with input as {"objects": [topic(spec)]}
}

test_replicated_topic_is_allowed if {
	count(denials({"replicas": 3, "config": {"min.insync.replicas": 2}})) == 0
}

test_string_config_values_are_understood if {
	count(denials({"replicas": 3, "config": {"min.insync.replicas": "2"}})) == 0
}

test_replication_factor_one_is_denied if {
	denials({"replicas": 1, "config": {"min.insync.replicas": 2}}) == {"KafkaTopic paystream/payments.payment-requested: topic payments.payment-requested needs spec.replicas >= 3, has 1"}
}

test_min_insync_one_is_denied if {
	denials({"replicas": 3, "config": {"min.insync.replicas": 1}}) == {"KafkaTopic paystream/payments.payment-requested: topic payments.payment-requested needs config min.insync.replicas >= 2, has 1"}
}

test_missing_settings_are_denied if {
	denials({"topicName": "t"}) == {
		"KafkaTopic paystream/payments.payment-requested: topic t needs spec.replicas >= 3, has none",
		"KafkaTopic paystream/payments.payment-requested: topic t needs config min.insync.replicas >= 2, has none",
	}
}
