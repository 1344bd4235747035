# Pod Security Standard "restricted" for every workload: non-root, no privilege escalation, no
# privileged mode, every capability dropped (only NET_BIND_SERVICE may be added back), seccomp
# RuntimeDefault or Localhost, read-only root filesystem, no host namespaces.
#
# A container setting wins over the pod setting, as in Kubernetes.
package paystream.pod_security

import rego.v1

import data.paystream.lib.kubernetes as k8s

# The effective value of a securityContext field: the container's, else the pod's.
effective(obj, container, field) := container.securityContext[field]

effective(obj, container, field) := k8s.pod_spec(obj).securityContext[field] if {
	not has_key(object.get(container, "securityContext", {}), field)
}

has_key(o, key) if _ = o[key]

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	not effective(obj, c, "runAsNonRoot") == true
	msg := sprintf("%s: must run as non-root (securityContext.runAsNonRoot: true)", [k8s.container_ref(obj, c)])
}

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	effective(obj, c, "runAsUser") == 0
	msg := sprintf("%s: must not run as UID 0 (securityContext.runAsUser)", [k8s.container_ref(obj, c)])
}

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	not c.securityContext.allowPrivilegeEscalation == false
	msg := sprintf("%s: must set securityContext.allowPrivilegeEscalation: false", [k8s.container_ref(obj, c)])
}

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	c.securityContext.privileged == true
	msg := sprintf("%s: must not be privileged", [k8s.container_ref(obj, c)])
}

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	not c.securityContext.readOnlyRootFilesystem == true
	msg := sprintf("%s: must set securityContext.readOnlyRootFilesystem: true", [k8s.container_ref(obj, c)])
}

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	not "ALL" in object.get(c, ["securityContext", "capabilities", "drop"], [])
	msg := sprintf("%s: must drop all capabilities (securityContext.capabilities.drop: [ALL])", [k8s.container_ref(obj, c)])
}

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	some cap in object.get(c, ["securityContext", "capabilities", "add"], [])
	cap != "NET_BIND_SERVICE"
	msg := sprintf("%s: must not add capability %s", [k8s.container_ref(obj, c), cap])
}

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	not effective(obj, c, "seccompProfile").type in {"RuntimeDefault", "Localhost"}
	msg := sprintf("%s: must use seccompProfile RuntimeDefault or Localhost", [k8s.container_ref(obj, c)])
}

deny contains msg if {
	some obj in k8s.workloads
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	k8s.pod_spec(obj)[field] == true
	msg := sprintf("%s: must not set %s: true", [k8s.ref(obj), field])
}
