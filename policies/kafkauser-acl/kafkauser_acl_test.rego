package paystream.kafkauser_acl_test

import rego.v1

import data.paystream.kafkauser_acl

user(acls) := {"kind": "KafkaUser", "metadata": {"name": "paystream-payments", "namespace": "paystream"}, "spec": {"authorization": {"type": "simple", "acls": acls}}}

acl(type, name, pattern, ops) := {"resource": {"type": type, "name": name, "patternType": pattern}, "operations": ops}

denials(acls) := d if {
	d := kafkauser_acl.deny with input as {"objects": [user(acls)]}
}

test_literal_writes_and_prefix_reads_are_allowed if {
	count(denials([
		acl("topic", "payments.payment-processed", "literal", ["Write", "Describe"]),
		acl("topic", "audit.", "prefix", ["Read", "Describe"]),
		acl("group", "payments", "literal", ["Read"]),
	])) == 0
}

test_star_write_is_denied if {
	denials([acl("topic", "*", "literal", ["Write"])]) == {`KafkaUser paystream/paystream-payments: ACL grants Write on topic "*" (literal): no wildcard or prefix on write operations, name each topic`}
}

test_prefix_all_is_denied if {
	denials([acl("topic", "payments.", "prefix", ["All"])]) == {`KafkaUser paystream/paystream-payments: ACL grants All on topic "payments." (prefix): no wildcard or prefix on write operations, name each topic`}
}

test_wildcard_group_delete_is_denied if {
	count(denials([acl("group", "*", "literal", ["Read", "Delete"])])) == 1
}

test_legacy_single_operation_is_checked if {
	count(denials([{"resource": {"type": "topic", "name": "pay*", "patternType": "literal"}, "operation": "Write"}])) == 1
}

test_deny_rules_may_use_wildcards if {
	count(denials([{"type": "deny", "resource": {"type": "topic", "name": "*", "patternType": "literal"}, "operations": ["Write"]}])) == 0
}
