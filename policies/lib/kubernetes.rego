# Helpers shared by the paystream policies: where pod specs live in each workload kind, the
# containers of a pod spec, and the "<Kind> <namespace>/<name>" reference every message starts with.
#
# Input of every policy: {"objects": [<every manifest of one rendered set>]}, so that policies
# can relate objects (a NetworkPolicy to a Deployment, a ConfigMap to the container using it).
package paystream.lib.kubernetes

import rego.v1

# Kinds whose objects carry a pod template (or are a pod).
workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}

# Kinds that run continuously and therefore need probes and a NetworkPolicy.
long_running_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}

# Every workload object of the input.
workloads contains obj if {
	some obj in input.objects
	obj.kind in workload_kinds
}

# The namespace of an object; objects without one land in "default".
namespace(obj) := object.get(obj.metadata, "namespace", "default")

# "<Kind> <namespace>/<name>": how every message names an object.
ref(obj) := sprintf("%s %s/%s", [obj.kind, namespace(obj), obj.metadata.name])

# "<Kind> <namespace>/<name>: container <name>": how every message names a container.
container_ref(obj, container) := sprintf("%s: container %s", [ref(obj), container.name])

# The pod spec of a workload.
pod_spec(obj) := obj.spec.template.spec if obj.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_spec(obj) := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"

pod_spec(obj) := obj.spec if obj.kind == "Pod"

# The labels of the pods a workload creates.
pod_labels(obj) := object.get(obj, ["spec", "template", "metadata", "labels"], {}) if obj.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_labels(obj) := object.get(obj, ["spec", "jobTemplate", "spec", "template", "metadata", "labels"], {}) if obj.kind == "CronJob"

pod_labels(obj) := object.get(obj, ["metadata", "labels"], {}) if obj.kind == "Pod"

# Regular and init containers of a workload (ephemeral containers are never in manifests).
containers(obj) := array.concat(
	object.get(pod_spec(obj), "containers", []),
	object.get(pod_spec(obj), "initContainers", []),
)

# Regular containers only: the ones that serve and need probes.
main_containers(obj) := object.get(pod_spec(obj), "containers", [])

# A Helm test or hook pod (run once by `helm test`/hooks, not a serving workload).
is_hook(obj) if obj.metadata.annotations["helm.sh/hook"]

# The plain environment a container sees: literal env values and every key of the ConfigMaps it
# loads with envFrom (ConfigMaps of the same namespace in the input). Maps name -> {value, source}.
plain_env(obj, container) := object.union(_from_config_maps(obj, container), _literal_env(container))

_literal_env(container) := {e.name: {"value": e.value, "source": "env"} |
	some e in object.get(container, "env", [])
	is_string(e.value)
}

_from_config_maps(obj, container) := {key: {"value": value, "source": sprintf("ConfigMap %s", [cm.metadata.name])} |
	some from in object.get(container, "envFrom", [])
	cm_name := from.configMapRef.name
	some cm in input.objects
	cm.kind == "ConfigMap"
	cm.metadata.name == cm_name
	namespace(cm) == namespace(obj)
	some key, value in object.get(cm, "data", {})
}

# A namespace meant for local development, where unencrypted Kafka is tolerated.
dev_namespace(ns) if ns == "dev"

dev_namespace(ns) if startswith(ns, "dev-")

dev_namespace(ns) if endswith(ns, "-dev")
