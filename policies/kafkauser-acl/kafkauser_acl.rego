# KafkaUser ACLs never grant a write-type operation on a wildcard: no `*` in the resource name and
# no `prefix` pattern for Write, Create, Delete, Alter, AlterConfigs, IdempotentWrite or All. A
# worker writes exactly the topics it owns, named literally.
package paystream.kafkauser_acl

import rego.v1

import data.paystream.lib.kubernetes as k8s

write_operations := {"Write", "Create", "Delete", "Alter", "AlterConfigs", "IdempotentWrite", "All"}

# The operations of an ACL rule (Strimzi `operations`, or the older single `operation`).
operations(acl) := {op | some op in object.get(acl, "operations", [])} | {op | op := acl.operation}

wildcard(resource) if contains(object.get(resource, "name", "*"), "*")

wildcard(resource) if resource.patternType == "prefix"

deny contains msg if {
	some user in input.objects
	user.kind == "KafkaUser"
	some acl in object.get(user, ["spec", "authorization", "acls"], [])
	object.get(acl, "type", "allow") == "allow"
	wildcard(acl.resource)
	writes := operations(acl) & write_operations
	count(writes) > 0
	msg := sprintf("%s: ACL grants %s on %s %q (%s): no wildcard or prefix on write operations, name each %s", [
		k8s.ref(user),
		concat(",", sort(writes)),
		acl.resource.type,
		object.get(acl.resource, "name", "*"),
		object.get(acl.resource, "patternType", "literal"),
		acl.resource.type,
	])
}
