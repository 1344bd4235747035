# Strimzi topics survive a broker loss without losing acknowledged writes: replication factor at
# least 3 and min.insync.replicas at least 2 (with acks=all, a write then lives on two brokers).
# Both must be explicit: broker defaults are not visible here and often 1.
package paystream.strimzi_topic

import rego.v1

import data.paystream.lib.kubernetes as k8s

topics contains t if {
	some t in input.objects
	t.kind == "KafkaTopic"
}

topic_name(t) := object.get(t, ["spec", "topicName"], t.metadata.name)

deny contains msg if {
	some t in topics
	not to_number(object.get(t, ["spec", "replicas"], 0)) >= 3
	msg := sprintf("%s: topic %s needs spec.replicas >= 3, has %v", [k8s.ref(t), topic_name(t), object.get(t, ["spec", "replicas"], "none")])
}

deny contains msg if {
	some t in topics
	isr := object.get(t, ["spec", "config", "min.insync.replicas"], 0)
	not to_number(isr) >= 2
	msg := sprintf("%s: topic %s needs config min.insync.replicas >= 2, has %v", [k8s.ref(t), topic_name(t), object.get(t, ["spec", "config", "min.insync.replicas"], "none")])
}
