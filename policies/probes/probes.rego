# Every container of a long-running workload has a liveness and a readiness probe: without
# liveness a stalled poll loop is never restarted, without readiness a pod that is still
# restoring state or has lost Kafka stays in the Service's endpoints.
package paystream.probes

import rego.v1

import data.paystream.lib.kubernetes as k8s

deny contains msg if {
	some obj in k8s.workloads
	obj.kind in k8s.long_running_kinds
	some c in k8s.main_containers(obj)
	some probe in ["livenessProbe", "readinessProbe"]
	not c[probe]
	msg := sprintf("%s: must define a %s", [k8s.container_ref(obj, c), probe])
}
