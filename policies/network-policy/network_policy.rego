# Every long-running workload's pods are selected by a NetworkPolicy of their namespace, so that
# ingress and egress are default-deny plus what the policy allows. A policy with an empty pod
# selector selects every pod of its namespace.
package paystream.network_policy

import rego.v1

import data.paystream.lib.kubernetes as k8s

network_policies contains np if {
	some np in input.objects
	np.kind == "NetworkPolicy"
}

# A label selector matches a label set (matchLabels and matchExpressions, as Kubernetes does).
matches(selector, labels) if {
	every key, value in object.get(selector, "matchLabels", {}) {
		labels[key] == value
	}
	every expr in object.get(selector, "matchExpressions", []) {
		expression_matches(expr, labels)
	}
}

expression_matches(expr, labels) if {
	expr.operator == "In"
	labels[expr.key] in expr.values
}

expression_matches(expr, labels) if {
	expr.operator == "NotIn"
	not labels[expr.key] in expr.values
}

expression_matches(expr, labels) if {
	expr.operator == "Exists"
	labels[expr.key]
}

expression_matches(expr, labels) if {
	expr.operator == "DoesNotExist"
	not labels[expr.key]
}

selected(obj) if {
	some np in network_policies
	k8s.namespace(np) == k8s.namespace(obj)
	matches(object.get(np, ["spec", "podSelector"], {}), k8s.pod_labels(obj))
}

deny contains msg if {
	some obj in k8s.workloads
	obj.kind in k8s.long_running_kinds
	not selected(obj)
	msg := sprintf("%s: no NetworkPolicy in namespace %s selects its pods", [k8s.ref(obj), k8s.namespace(obj)])
}
