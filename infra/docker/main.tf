# A FaaSFlow cluster as containers on this machine: the gateway, storage and worker nodes of
# infra/aws, on one internal Docker network (containers reach each other; nothing is routed to or
# from the outside). Ansible configures them through `docker exec` (community.docker.docker), so
# the control host never sends a packet to the network's addresses.

locals {
  apt_mount = "/srv/faasflow/debs"
  nodes = concat(
    [
      { name = "gateway-0", role = "gateway", host = 10 },
      { name = "storage-0", role = "storage", host = 11 },
    ],
    [for i in range(var.workers) : { name = "worker-${i}", role = "worker", host = 20 + i }],
  )
}

resource "docker_network" "cluster" {
  name     = "${var.cluster_name}-net"
  driver   = "bridge"
  internal = true

  ipam_config {
    subnet = var.subnet
  }
}

resource "docker_container" "node" {
  for_each = { for n in local.nodes : n.name => n }

  name     = "${var.cluster_name}-${each.key}"
  hostname = each.key
  image    = var.node_image
  restart  = "unless-stopped"
  memory   = var.node_memory_mb > 0 ? var.node_memory_mb : null
  must_run = true

  networks_advanced {
    name         = docker_network.cluster.id
    ipv4_address = cidrhost(var.subnet, each.value.host)
  }

  # Packages for the roles come from the control host (see scripts/infra/node-image.sh).
  mounts {
    type      = "bind"
    source    = var.apt_repo
    target    = local.apt_mount
    read_only = true
  }

  labels {
    label = "faasflow.cluster"
    value = var.cluster_name
  }

  labels {
    label = "faasflow.role"
    value = each.value.role
  }
}
