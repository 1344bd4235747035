package paystream.image_pinned_test

import rego.v1

import data.paystream.image_pinned

denials(image) := d if {
	d := image_pinned.deny with input as {"objects": [{"kind": "Deployment", "metadata": {"name": "paystream-payments", "namespace": "paystream"}, "spec": {"template": {"spec": {"containers": [{"name": "payments", "image": image}]}}}}]}
}

test_version_tag_is_allowed if {
	count(denials("registry.example.invalid/paystream/paystream:0.1.0")) == 0
}

test_digest_is_allowed_even_with_latest if {
	count(denials("registry.example.invalid/paystream/paystream:latest@sha256:0000000000000000000000000000000000000000000000000000000000000000")) == 0
}

test_registry_port_is_not_a_tag if {
	denials("registry.local:5000/paystream") == {"Deployment paystream/paystream-payments: container payments: image registry.local:5000/paystream has neither a tag nor a digest"}
}

test_latest_is_denied if {
	denials("registry.local:5000/paystream:latest") == {"Deployment paystream/paystream-payments: container payments: image registry.local:5000/paystream:latest uses the mutable tag latest; pin a version tag or a digest"}
}

test_no_tag_is_denied if {
	denials("busybox") == {"Deployment paystream/paystream-payments: container payments: image busybox has neither a tag nor a digest"}
}
