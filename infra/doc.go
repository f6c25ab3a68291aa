// Package infra holds the Terraform stacks that provision FaaSFlow clusters:
// infra/aws (EC2 nodes in one VPC) and infra/docker (the same nodes as
// containers on this machine, through the kreuzwerker/docker provider).
// Both have the same outputs, which `faasflow cluster up` turns into the
// Ansible inventory and the cluster config. The Go code here is only the
// tests that read the stacks' HCL.
package infra
