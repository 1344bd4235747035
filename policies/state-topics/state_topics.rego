# Topics that hold a worker's state or its in-flight work keep it:
#   - a changelog (`<group>.<input>.changelog`, label paystream.io/topic-kind=changelog) is
#     compacted and never deleted by time: `cleanup.policy: compact` exactly;
#   - a changelog has exactly the partitions of its input (annotation paystream.io/input-topic,
#     when that input's KafkaTopic is in the same set): the store of input partition N is
#     changelog partition N, and the worker refuses to start on a mismatch;
#   - an internal (repartition) topic (label paystream.io/topic-kind=internal), written by one
#     stage and read by the next, keeps records at least 3 days (retention.ms -1 or >= 259200000)
#     and sets no retention.bytes: a record deleted before the next stage read it is lost, since
#     the stage before already committed.
package paystream.state_topics

import rego.v1

import data.paystream.lib.kubernetes as k8s

# 3 days in milliseconds: the shortest time a worker may be down without losing internal records.
internal_min_retention_ms := 259200000

topics contains t if {
	some t in input.objects
	t.kind == "KafkaTopic"
}

topic_name(t) := object.get(t, ["spec", "topicName"], t.metadata.name)

kind(t) := object.get(t, ["metadata", "labels", "paystream.io/topic-kind"], "")

changelog(t) if kind(t) == "changelog"

changelog(t) if endswith(topic_name(t), ".changelog")

deny contains msg if {
	some t in topics
	changelog(t)
	policy := object.get(t, ["spec", "config", "cleanup.policy"], "unset (broker default delete)")
	policy != "compact"
	msg := sprintf("%s: changelog topic %s must set cleanup.policy compact, has %v: a time- or size-based delete loses state", [k8s.ref(t), topic_name(t), policy])
}

deny contains msg if {
	some t in topics
	changelog(t)
	source := t.metadata.annotations["paystream.io/input-topic"]
	some i in topics
	topic_name(i) == source
	k8s.namespace(i) == k8s.namespace(t)
	want := object.get(i, ["spec", "partitions"], "unset")
	have := object.get(t, ["spec", "partitions"], "unset")
	want != have
	msg := sprintf("%s: changelog topic %s has %v partitions but its input %s has %v; they must match", [k8s.ref(t), topic_name(t), have, source, want])
}

retention(t) := to_number(object.get(t, ["spec", "config", "retention.ms"], 604800000))

deny contains msg if {
	some t in topics
	kind(t) == "internal"
	r := retention(t)
	r != -1
	r < internal_min_retention_ms
	msg := sprintf("%s: internal topic %s must retain records at least 3 days (retention.ms -1 or >= %d), has %v: unread records would be lost while a worker is down", [k8s.ref(t), topic_name(t), internal_min_retention_ms, r])
}

deny contains msg if {
	some t in topics
	kind(t) == "internal"
	bytes := to_number(object.get(t, ["spec", "config", "retention.bytes"], -1))
	bytes >= 0
	msg := sprintf("%s: internal topic %s must not set retention.bytes (%v): size-based deletion can drop records before the next stage reads them", [k8s.ref(t), topic_name(t), bytes])
}
