package paystream.network_policy_test

import rego.v1

import data.paystream.network_policy

labels := {"app.kubernetes.io/name": "paystream", "app.kubernetes.io/component": "payments"}

deployment := {"kind": "Deployment", "metadata": {"name": "paystream-payments", "namespace": "paystream"}, "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "payments"}]}}}}

policy(ns, selector) := {"kind": "NetworkPolicy", "metadata": {"name": "np", "namespace": ns}, "spec": {"podSelector": selector}}

denials(objects) := d if {
	d := network_policy.deny with input as {"objects": objects}
}

denied := {"Deployment paystream/paystream-payments: no NetworkPolicy in namespace paystream selects its pods"}

test_selected_by_match_labels_is_allowed if {
	count(denials([deployment, policy("paystream", {"matchLabels": {"app.kubernetes.io/component": "payments"}})])) == 0
}

test_selected_by_empty_selector_is_allowed if {
	count(denials([deployment, policy("paystream", {})])) == 0
}

test_selected_by_match_expressions_is_allowed if {
	sel := {"matchExpressions": [
		{"key": "app.kubernetes.io/component", "operator": "In", "values": ["payments", "ledger"]},
		{"key": "app.kubernetes.io/name", "operator": "Exists"},
		{"key": "debug", "operator": "DoesNotExist"},
	]}
	count(denials([deployment, policy("paystream", sel)])) == 0
}

test_no_network_policy_is_denied if {
	denials([deployment]) == denied
}

test_policy_for_other_pods_is_denied if {
	denials([deployment, policy("paystream", {"matchLabels": {"app.kubernetes.io/component": "ledger"}})]) == denied
}

test_policy_in_another_namespace_is_denied if {
	denials([deployment, policy("other", {})]) == denied
}

test_not_in_expression_excludes if {
	sel := {"matchExpressions": [{"key": "app.kubernetes.io/component", "operator": "NotIn", "values": ["payments"]}]}
	denials([deployment, policy("paystream", sel)]) == denied
}
