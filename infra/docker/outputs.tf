# The outputs of infra/aws, for nodes that are containers; connect_to is the container's name, which
# Ansible's community.docker.docker connection uses.

output "gateway_private_ip" {
  description = "Address of the gateway node on the cluster network (faasflow-gateway on port 7000)."
  value       = docker_container.node["gateway-0"].network_data[0].ip_address
}

output "storage_private_ip" {
  description = "Address of the storage node (Kafka on 9092, CouchDB on 5984)."
  value       = docker_container.node["storage-0"].network_data[0].ip_address
}

output "worker_private_ips" {
  description = "Addresses of the worker nodes (faasflow-worker on 8000, Redis on 6379), in order."
  value       = [for i in range(var.workers) : docker_container.node["worker-${i}"].network_data[0].ip_address]
}

output "nodes" {
  description = "Every node: name, role (gateway, storage, worker), private address, and the container Ansible connects to."
  value = [
    for n in local.nodes : {
      name       = n.name
      role       = n.role
      private_ip = docker_container.node[n.name].network_data[0].ip_address
      connect_to = docker_container.node[n.name].name
    }
  ]
}

output "ansible_connection" {
  description = "How Ansible reaches the nodes: docker exec."
  value       = "community.docker.docker"
}

output "ansible_user" {
  description = "The user Ansible runs as inside the containers."
  value       = "root"
}

output "apt_repo" {
  description = "Where the nodes see the control host's apt repository (the roles' faasflow_apt_repo)."
  value       = local.apt_mount
}
