package paystream.probes_test

import rego.v1

import data.paystream.probes

probe := {"httpGet": {"path": "/livez", "port": "http"}}

workload(kind, container) := {"kind": kind, "metadata": {"name": "paystream-payments", "namespace": "paystream"}, "spec": {"template": {"spec": {"containers": [container]}}}}

denials(objects) := d if {
	d := probes.deny with input as {"objects": objects}
}

test_container_with_both_probes_is_allowed if {
	count(denials([workload("Deployment", {"name": "payments", "livenessProbe": probe, "readinessProbe": probe})])) == 0
}

test_missing_liveness_probe_is_denied if {
	d := denials([workload("Deployment", {"name": "payments", "readinessProbe": probe})])
	d == {"Deployment paystream/paystream-payments: container payments: must define a livenessProbe"}
}

test_missing_readiness_probe_is_denied if {
	d := denials([workload("StatefulSet", {"name": "payments", "livenessProbe": probe})])
	d == {"StatefulSet paystream/paystream-payments: container payments: must define a readinessProbe"}
}

test_jobs_and_test_pods_need_no_probes if {
	job := workload("Job", {"name": "migrate"})
	pod := {"kind": "Pod", "metadata": {"name": "t", "namespace": "paystream"}, "spec": {"containers": [{"name": "readyz"}]}}
	count(denials([job, pod])) == 0
}

test_init_containers_need_no_probes if {
	d := {"kind": "Deployment", "metadata": {"name": "w", "namespace": "paystream"}, "spec": {"template": {"spec": {
		"containers": [{"name": "main", "livenessProbe": probe, "readinessProbe": probe}],
		"initContainers": [{"name": "init"}],
	}}}}
	count(denials([d])) == 0
}
