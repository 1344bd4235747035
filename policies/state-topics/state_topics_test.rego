package paystream.state_topics_test

import rego.v1

import data.paystream.state_topics

topic(name, kind, annotations, spec) := {
	"kind": "KafkaTopic",
	"metadata": {"name": name, "namespace": "paystream", "labels": {"paystream.io/topic-kind": kind}, "annotations": annotations},
	"spec": object.union({"topicName": name}, spec),
}

input_topic(partitions) := topic("ledger.postings", "internal", {}, {"partitions": partitions, "config": {"retention.ms": 604800000}})

changelog(partitions, config) := topic("ledger.ledger.postings.changelog", "changelog", {"paystream.io/input-topic": "ledger.postings"}, {"partitions": partitions, "config": config})

denials(objects) := d if {
	inp := {"objects": objects}
	d := state_topics.deny with input as inp
}

test_compacted_changelog_with_its_inputs_partitions_is_allowed if {
	count(denials([input_topic(12), changelog(12, {"cleanup.policy": "compact", "retention.ms": -1})])) == 0
}

test_changelog_without_its_input_in_the_set_is_only_checked_for_compaction if {
	count(denials([changelog(24, {"cleanup.policy": "compact"})])) == 0
}

test_changelog_with_delete_policy_is_denied if {
	denials([changelog(12, {"cleanup.policy": "delete"})]) == {"KafkaTopic paystream/ledger.ledger.postings.changelog: changelog topic ledger.ledger.postings.changelog must set cleanup.policy compact, has delete: a time- or size-based delete loses state"}
}

test_changelog_without_cleanup_policy_is_denied if {
	denials([changelog(12, {})]) == {"KafkaTopic paystream/ledger.ledger.postings.changelog: changelog topic ledger.ledger.postings.changelog must set cleanup.policy compact, has unset (broker default delete): a time- or size-based delete loses state"}
}

test_changelog_is_recognised_by_name_without_label if {
	t := {"kind": "KafkaTopic", "metadata": {"name": "x", "namespace": "paystream"}, "spec": {"topicName": "payments.payments.payment-requested.changelog", "config": {"cleanup.policy": "compact,delete"}}}
	denials([t]) == {"KafkaTopic paystream/x: changelog topic payments.payments.payment-requested.changelog must set cleanup.policy compact, has compact,delete: a time- or size-based delete loses state"}
}

test_changelog_with_other_partitions_than_its_input_is_denied if {
	denials([input_topic(24), changelog(12, {"cleanup.policy": "compact"})]) == {"KafkaTopic paystream/ledger.ledger.postings.changelog: changelog topic ledger.ledger.postings.changelog has 12 partitions but its input ledger.postings has 24; they must match"}
}

test_internal_topic_kept_seven_days_or_forever_is_allowed if {
	count(denials([input_topic(12)])) == 0
	forever := topic("ledger.transactions", "internal", {}, {"config": {"retention.ms": "-1"}})
	count(denials([forever])) == 0
}

test_internal_topic_kept_one_day_is_denied if {
	t := topic("ledger.transactions", "internal", {}, {"config": {"retention.ms": 86400000}})
	denials([t]) == {"KafkaTopic paystream/ledger.transactions: internal topic ledger.transactions must retain records at least 3 days (retention.ms -1 or >= 259200000), has 86400000: unread records would be lost while a worker is down"}
}

test_internal_topic_with_retention_bytes_is_denied if {
	t := topic("ledger.transactions", "internal", {}, {"config": {"retention.ms": 604800000, "retention.bytes": 1073741824}})
	denials([t]) == {"KafkaTopic paystream/ledger.transactions: internal topic ledger.transactions must not set retention.bytes (1073741824): size-based deletion can drop records before the next stage reads them"}
}

test_event_topics_are_not_checked if {
	t := topic("payments.payment-processed", "event", {}, {"config": {"retention.ms": 3600000}})
	count(denials([t])) == 0
}
