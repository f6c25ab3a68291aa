# Inputs of the AWS stack. Only operator_cidr and ssh_public_key have no default: set them in a
# terraform.tfvars file or as TF_VAR_operator_cidr / TF_VAR_ssh_public_key (see docs/cluster.md).

variable "region" {
  description = "AWS region the cluster runs in."
  type        = string
  default     = "us-east-1"
}

variable "availability_zone" {
  description = "Availability zone of the cluster's subnet; empty picks the region's first zone."
  type        = string
  default     = ""
}

variable "cluster_name" {
  description = "Name prefix of every resource, and the Cluster tag."
  type        = string
  default     = "faasflow"
}

variable "workers" {
  description = "Number of worker nodes (faasflow-worker, Redis, Docker)."
  type        = number
  default     = 3

  validation {
    condition     = var.workers >= 1 && var.workers == floor(var.workers)
    error_message = "workers must be a whole number of at least 1."
  }
}

variable "vpc_cidr" {
  description = "Address range of the cluster's VPC."
  type        = string
  default     = "10.42.0.0/16"
}

variable "subnet_cidr" {
  description = "Address range of the cluster's one subnet, inside vpc_cidr."
  type        = string
  default     = "10.42.1.0/24"
}

variable "operator_cidr" {
  description = "The only addresses allowed to reach the nodes over SSH (port 22), e.g. your workstation's address/32."
  type        = string

  validation {
    condition     = can(cidrhost(var.operator_cidr, 0)) && var.operator_cidr != "0.0.0.0/0"
    error_message = "operator_cidr must be a CIDR block narrower than 0.0.0.0/0, e.g. 203.0.113.7/32."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for the ubuntu user on every node (the key Ansible connects with)."
  type        = string
}

variable "ssh_user" {
  description = "Login user of the AMI; written to the Ansible inventory."
  type        = string
  default     = "ubuntu"
}

variable "ubuntu_release" {
  description = "Ubuntu LTS release of the nodes, as in Canonical's AMI names (noble = 24.04, jammy = 22.04)."
  type        = string
  default     = "noble-24.04"
}

variable "gateway_instance_type" {
  description = "Instance type of the gateway node: 8 vCPU, 16 GiB (checked against the type at plan time)."
  type        = string
  default     = "c5.2xlarge"
}

variable "storage_instance_type" {
  description = "Instance type of the storage node (Kafka, CouchDB): 8 vCPU, 16 GiB."
  type        = string
  default     = "c5.2xlarge"
}

variable "worker_instance_type" {
  description = "Instance type of each worker node: 16 vCPU, 64 GiB."
  type        = string
  default     = "m5.4xlarge"
}

variable "disk_gb" {
  description = "Size of every node's root volume (gp3 SSD), in GB."
  type        = number
  default     = 200
}
