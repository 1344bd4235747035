# Audit topics (`audit.*`) keep their records at least 7 years: retention.ms is -1 (forever) or
# at least 7 x 365.25 days, and no retention.bytes limit can delete records earlier.
package paystream.audit_retention

import rego.v1

import data.paystream.lib.kubernetes as k8s

# 7 x 365.25 days in milliseconds.
seven_years_ms := 220903200000

audit_topics contains t if {
	some t in input.objects
	t.kind == "KafkaTopic"
	startswith(topic_name(t), "audit.")
}

topic_name(t) := object.get(t, ["spec", "topicName"], t.metadata.name)

retention(t) := to_number(object.get(t, ["spec", "config", "retention.ms"], 604800000))

retains_seven_years(t) if retention(t) == -1

retains_seven_years(t) if retention(t) >= seven_years_ms

deny contains msg if {
	some t in audit_topics
	not retains_seven_years(t)
	msg := sprintf("%s: audit topic %s must retain records for 7 years (retention.ms -1 or >= %d), has retention.ms %v", [k8s.ref(t), topic_name(t), seven_years_ms, object.get(t, ["spec", "config", "retention.ms"], "unset (broker default, 7 days)")])
}

deny contains msg if {
	some t in audit_topics
	bytes := to_number(object.get(t, ["spec", "config", "retention.bytes"], -1))
	bytes >= 0
	msg := sprintf("%s: audit topic %s must not set retention.bytes (%v): size-based deletion defeats the 7-year retention", [k8s.ref(t), topic_name(t), bytes])
}
