package paystream.lib.kubernetes_test

import rego.v1

import data.paystream.lib.kubernetes as k8s

deployment := {
	"kind": "Deployment",
	"metadata": {"name": "w", "namespace": "ns"},
	"spec": {"template": {
		"metadata": {"labels": {"app": "w"}},
		"spec": {
			"containers": [{"name": "main", "envFrom": [{"configMapRef": {"name": "cfg"}}], "env": [{"name": "A", "value": "literal"}]}],
			"initContainers": [{"name": "init"}],
		},
	}},
}

config_map := {"kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "ns"}, "data": {"A": "from-cm", "B": "b"}}

test_ref_names_kind_namespace_and_name if {
	k8s.ref(deployment) == "Deployment ns/w"
}

test_containers_include_init_containers if {
	names := {c.name | some c in k8s.containers(deployment)}
	names == {"main", "init"}
}

# The input is bound to a variable first: regorus (0.14) loses a `with input as {…}` whose literal
# references a rule that is also a function argument.
test_plain_env_merges_config_map_and_literal_env_literal_wins if {
	inp := {"objects": [deployment, config_map]}
	env := k8s.plain_env(deployment, deployment.spec.template.spec.containers[0]) with input as inp
	env.A.value == "literal"
	env.B.source == "ConfigMap cfg"
}

test_config_map_of_another_namespace_is_ignored if {
	other := object.union(config_map, {"metadata": {"namespace": "elsewhere"}})
	inp := {"objects": [deployment, other]}
	env := k8s.plain_env(deployment, deployment.spec.template.spec.containers[0]) with input as inp
	not env.B
}

test_dev_namespaces if {
	k8s.dev_namespace("dev")
	k8s.dev_namespace("dev-alice")
	k8s.dev_namespace("payments-dev")
	not k8s.dev_namespace("payments-prod")
	not k8s.dev_namespace("devops")
}
