package paystream.resources_test

import rego.v1

import data.paystream.resources

full := {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}

deployment(res) := {"kind": "Deployment", "metadata": {"name": "paystream-payments", "namespace": "paystream"}, "spec": {"template": {"spec": {"containers": [{"name": "payments", "resources": res}]}}}}

denials(res) := d if {
	d := resources.deny with input as {"objects": [deployment(res)]}
}

test_requests_and_limits_set_is_allowed if {
	count(denials(full)) == 0
}

test_no_resources_is_denied_four_times if {
	d := denials({})
	d == {
		"Deployment paystream/paystream-payments: container payments: must set resources.requests.cpu",
		"Deployment paystream/paystream-payments: container payments: must set resources.requests.memory",
		"Deployment paystream/paystream-payments: container payments: must set resources.limits.cpu",
		"Deployment paystream/paystream-payments: container payments: must set resources.limits.memory",
	}
}

test_missing_memory_limit_is_denied if {
	d := denials({"requests": full.requests, "limits": {"cpu": "1"}})
	d == {"Deployment paystream/paystream-payments: container payments: must set resources.limits.memory"}
}

test_pods_are_checked_too if {
	pod := {"kind": "Pod", "metadata": {"name": "t", "namespace": "paystream"}, "spec": {"containers": [{"name": "readyz", "resources": {"requests": full.requests}}]}}
	d := resources.deny with input as {"objects": [pod]}
	"Pod paystream/t: container readyz: must set resources.limits.cpu" in d
}
