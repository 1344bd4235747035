package paystream.pod_security_test

import rego.v1

import data.paystream.pod_security

restricted_pod := {
	"securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
	"containers": [{
		"name": "payments",
		"securityContext": {
			"allowPrivilegeEscalation": false,
			"readOnlyRootFilesystem": true,
			"capabilities": {"drop": ["ALL"]},
		},
	}],
}

deployment(pod) := {"kind": "Deployment", "metadata": {"name": "paystream-payments", "namespace": "paystream"}, "spec": {"template": {"spec": pod}}}

with_container_context(ctx) := object.union(restricted_pod, {"containers": [{"name": "payments", "securityContext": object.union(restricted_pod.containers[0].securityContext, ctx)}]})

denials(pod) := d if {
	d := pod_security.deny with input as {"objects": [deployment(pod)]}
}

prefix := "Deployment paystream/paystream-payments: container payments: "

test_restricted_pod_is_allowed if {
	count(denials(restricted_pod)) == 0
}

test_container_level_seccomp_and_non_root_are_enough if {
	pod := {"containers": [{"name": "payments", "securityContext": {
		"runAsNonRoot": true, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
		"capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"},
	}}]}
	count(denials(pod)) == 0
}

test_missing_run_as_non_root_is_denied if {
	pod := object.union(restricted_pod, {"securityContext": {"runAsNonRoot": false}})
	concat("", [prefix, "must run as non-root (securityContext.runAsNonRoot: true)"]) in denials(pod)
}

test_container_overrides_pod_run_as_non_root if {
	concat("", [prefix, "must run as non-root (securityContext.runAsNonRoot: true)"]) in denials(with_container_context({"runAsNonRoot": false}))
}

test_root_uid_is_denied if {
	pod := object.union(restricted_pod, {"securityContext": {"runAsUser": 0}})
	concat("", [prefix, "must not run as UID 0 (securityContext.runAsUser)"]) in denials(pod)
}

test_privilege_escalation_is_denied if {
	concat("", [prefix, "must set securityContext.allowPrivilegeEscalation: false"]) in denials(with_container_context({"allowPrivilegeEscalation": true}))
}

test_privileged_is_denied if {
	concat("", [prefix, "must not be privileged"]) in denials(with_container_context({"privileged": true}))
}

test_writable_root_filesystem_is_denied if {
	concat("", [prefix, "must set securityContext.readOnlyRootFilesystem: true"]) in denials(with_container_context({"readOnlyRootFilesystem": false}))
}

test_capabilities_not_dropped_are_denied if {
	concat("", [prefix, "must drop all capabilities (securityContext.capabilities.drop: [ALL])"]) in denials(with_container_context({"capabilities": {"drop": ["NET_RAW"]}}))
}

test_added_capability_is_denied_but_net_bind_service_is_allowed if {
	d := denials(with_container_context({"capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN", "NET_BIND_SERVICE"]}}))
	concat("", [prefix, "must not add capability NET_ADMIN"]) in d
	not concat("", [prefix, "must not add capability NET_BIND_SERVICE"]) in d
}

test_unconfined_seccomp_is_denied if {
	pod := object.union(restricted_pod, {"securityContext": {"seccompProfile": {"type": "Unconfined"}}})
	concat("", [prefix, "must use seccompProfile RuntimeDefault or Localhost"]) in denials(pod)
}

test_host_network_is_denied if {
	pod := object.union(restricted_pod, {"hostNetwork": true})
	"Deployment paystream/paystream-payments: must not set hostNetwork: true" in denials(pod)
}

test_init_containers_are_checked if {
	pod := object.union(restricted_pod, {"initContainers": [{"name": "init", "securityContext": restricted_pod.containers[0].securityContext}]})
	count(denials(pod)) == 0
	bad := object.union(restricted_pod, {"initContainers": [{"name": "init"}]})
	"Deployment paystream/paystream-payments: container init: must set securityContext.readOnlyRootFilesystem: true" in denials(bad)
}
