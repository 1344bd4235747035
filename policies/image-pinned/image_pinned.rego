# Every image is pinned: by digest (`@sha256:…`) or by an explicit tag other than `latest`. An
# unpinned image makes a rollback or a node replacement pull different code.
package paystream.image_pinned

import rego.v1

import data.paystream.lib.kubernetes as k8s

# The tag of an image reference ("" when there is none); a registry port is not a tag.
tag(image) := t if {
	last := regex.split(`/`, image)
	name := last[count(last) - 1]
	parts := split(name, ":")
	count(parts) == 2
	t := parts[1]
}

tag(image) := "" if {
	last := regex.split(`/`, image)
	not contains(last[count(last) - 1], ":")
}

pinned_by_digest(image) if contains(image, "@sha256:")

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	not pinned_by_digest(c.image)
	tag(c.image) == ""
	msg := sprintf("%s: image %s has neither a tag nor a digest", [k8s.container_ref(obj, c), c.image])
}

deny contains msg if {
	some obj in k8s.workloads
	some c in k8s.containers(obj)
	not pinned_by_digest(c.image)
	tag(c.image) == "latest"
	msg := sprintf("%s: image %s uses the mutable tag latest; pin a version tag or a digest", [k8s.container_ref(obj, c), c.image])
}
