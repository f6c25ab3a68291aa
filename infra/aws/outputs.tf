# Outputs read by `faasflow cluster up` (through terraform output -json) to write the Ansible inventory
# and the cluster config. infra/docker has the same outputs, so the rest of the path is shared.

output "gateway_private_ip" {
  description = "Private address of the gateway node (faasflow-gateway on port 7000)."
  value       = aws_instance.gateway.private_ip
}

output "storage_private_ip" {
  description = "Private address of the storage node (Kafka on 9092, CouchDB on 5984)."
  value       = aws_instance.storage.private_ip
}

output "worker_private_ips" {
  description = "Private addresses of the worker nodes (faasflow-worker on 8000, Redis on 6379), in order."
  value       = aws_instance.worker[*].private_ip
}

output "nodes" {
  description = "Every node: name, role (gateway, storage, worker), private address, and the address Ansible connects to."
  value = concat(
    [
      {
        name       = "gateway-0"
        role       = "gateway"
        private_ip = aws_instance.gateway.private_ip
        connect_to = aws_instance.gateway.public_ip
      },
      {
        name       = "storage-0"
        role       = "storage"
        private_ip = aws_instance.storage.private_ip
        connect_to = aws_instance.storage.public_ip
      },
    ],
    [
      for i, w in aws_instance.worker : {
        name       = "worker-${i}"
        role       = "worker"
        private_ip = w.private_ip
        connect_to = w.public_ip
      }
    ],
  )
}

output "ansible_connection" {
  description = "How Ansible reaches the nodes: ssh."
  value       = "ssh"
}

output "ansible_user" {
  description = "The user Ansible logs in as."
  value       = var.ssh_user
}
