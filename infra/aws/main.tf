# FaaSFlow cluster on AWS: one VPC with one subnet, a gateway node, a storage node (Kafka, CouchDB) and
# N worker nodes, all Ubuntu LTS. The security group lets the nodes talk to each other freely and lets
# SSH in from the operator's CIDR only. Outputs feed the Ansible inventory (see outputs.tf).

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd*/ubuntu-${var.ubuntu_release}-amd64-server-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

# The instance types' sizes, read from AWS so that a plan fails when a type is too small.
data "aws_ec2_instance_type" "gateway" {
  instance_type = var.gateway_instance_type
}

data "aws_ec2_instance_type" "storage" {
  instance_type = var.storage_instance_type
}

data "aws_ec2_instance_type" "worker" {
  instance_type = var.worker_instance_type
}

locals {
  zone = var.availability_zone != "" ? var.availability_zone : data.aws_availability_zones.available.names[0]
}

resource "aws_vpc" "cluster" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "${var.cluster_name}-vpc"
  }
}

resource "aws_subnet" "cluster" {
  vpc_id                  = aws_vpc.cluster.id
  cidr_block              = var.subnet_cidr
  availability_zone       = local.zone
  map_public_ip_on_launch = true

  tags = {
    Name = "${var.cluster_name}-subnet"
  }
}

# Nodes reach package mirrors through the internet gateway; nothing comes in but what the security
# group allows.
resource "aws_internet_gateway" "cluster" {
  vpc_id = aws_vpc.cluster.id

  tags = {
    Name = "${var.cluster_name}-igw"
  }
}

resource "aws_route_table" "cluster" {
  vpc_id = aws_vpc.cluster.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.cluster.id
  }

  tags = {
    Name = "${var.cluster_name}-routes"
  }
}

resource "aws_route_table_association" "cluster" {
  subnet_id      = aws_subnet.cluster.id
  route_table_id = aws_route_table.cluster.id
}

resource "aws_security_group" "cluster" {
  name        = "${var.cluster_name}-nodes"
  description = "FaaSFlow nodes: all traffic between the nodes, SSH from the operator only"
  vpc_id      = aws_vpc.cluster.id

  tags = {
    Name = "${var.cluster_name}-nodes"
  }
}

resource "aws_vpc_security_group_ingress_rule" "intra_cluster" {
  security_group_id            = aws_security_group.cluster.id
  description                  = "any protocol between the cluster's nodes"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.cluster.id
}

resource "aws_vpc_security_group_ingress_rule" "ssh_operator" {
  security_group_id = aws_security_group.cluster.id
  description       = "SSH from the operator"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = var.operator_cidr
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.cluster.id
  description       = "package mirrors and the cluster itself"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_key_pair" "operator" {
  key_name   = "${var.cluster_name}-operator"
  public_key = var.ssh_public_key
}

resource "aws_instance" "gateway" {
  ami                    = data.aws_ami.ubuntu.id
  instance_type          = var.gateway_instance_type
  subnet_id              = aws_subnet.cluster.id
  vpc_security_group_ids = [aws_security_group.cluster.id]
  key_name               = aws_key_pair.operator.key_name

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.disk_gb
    delete_on_termination = true
  }

  lifecycle {
    precondition {
      condition     = data.aws_ec2_instance_type.gateway.default_vcpus >= 8 && data.aws_ec2_instance_type.gateway.memory_size >= 16384
      error_message = "gateway_instance_type needs at least 8 vCPU and 16 GiB."
    }
  }

  tags = {
    Name = "${var.cluster_name}-gateway"
    Role = "gateway"
  }
}

resource "aws_instance" "storage" {
  ami                    = data.aws_ami.ubuntu.id
  instance_type          = var.storage_instance_type
  subnet_id              = aws_subnet.cluster.id
  vpc_security_group_ids = [aws_security_group.cluster.id]
  key_name               = aws_key_pair.operator.key_name

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.disk_gb
    delete_on_termination = true
  }

  lifecycle {
    precondition {
      condition     = data.aws_ec2_instance_type.storage.default_vcpus >= 8 && data.aws_ec2_instance_type.storage.memory_size >= 16384
      error_message = "storage_instance_type needs at least 8 vCPU and 16 GiB."
    }
  }

  tags = {
    Name = "${var.cluster_name}-storage"
    Role = "storage"
  }
}

resource "aws_instance" "worker" {
  count                  = var.workers
  ami                    = data.aws_ami.ubuntu.id
  instance_type          = var.worker_instance_type
  subnet_id              = aws_subnet.cluster.id
  vpc_security_group_ids = [aws_security_group.cluster.id]
  key_name               = aws_key_pair.operator.key_name

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.disk_gb
    delete_on_termination = true
  }

  lifecycle {
    precondition {
      condition     = data.aws_ec2_instance_type.worker.default_vcpus >= 16 && data.aws_ec2_instance_type.worker.memory_size >= 65536
      error_message = "worker_instance_type needs at least 16 vCPU and 64 GiB."
    }
  }

  tags = {
    Name = "${var.cluster_name}-worker-${count.index}"
    Role = "worker"
  }
}
