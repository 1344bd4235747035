# Every container of every workload sets CPU and memory requests and limits, so the scheduler
# can place it and a leak is bounded by an OOM kill of that container, not of its neighbours.
package paystream.resources

import rego.v1

import data.paystream.lib.kubernetes as k8s

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	some kind in ["requests", "limits"]
	some resource in ["cpu", "memory"]
	not c.resources[kind][resource]
	msg := sprintf("%s: must set resources.%s.%s", [k8s.container_ref(obj, c), kind, resource])
}
