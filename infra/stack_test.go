package infra

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// stack is a Terraform directory parsed into its top-level blocks.
type stack struct {
	blocks []*hclsyntax.Block
	vars   map[string]cty.Value // variable defaults
}

func loadStack(t *testing.T, dir string) *stack {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in %s (%v)", dir, err)
	}
	p := hclparse.NewParser()
	s := &stack{vars: map[string]cty.Value{}}
	for _, f := range files {
		file, diags := p.ParseHCLFile(f)
		if diags.HasErrors() {
			t.Fatalf("parse %s: %s", f, diags.Error())
		}
		body := file.Body.(*hclsyntax.Body)
		s.blocks = append(s.blocks, body.Blocks...)
	}
	for _, b := range s.find("variable") {
		if a, ok := b.Body.Attributes["default"]; ok {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("variable %s: default: %s", b.Labels[0], diags.Error())
			}
			s.vars[b.Labels[0]] = v
		}
	}
	return s
}

// find returns the blocks of a type whose labels start with labels.
func (s *stack) find(typ string, labels ...string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range s.blocks {
		if b.Type == typ && len(b.Labels) >= len(labels) && slices.Equal(b.Labels[:len(labels)], labels) {
			out = append(out, b)
		}
	}
	return out
}

func (s *stack) one(t *testing.T, typ string, labels ...string) *hclsyntax.Block {
	t.Helper()
	bs := s.find(typ, labels...)
	if len(bs) != 1 {
		t.Fatalf("want one %s %q block, found %d", typ, strings.Join(labels, "."), len(bs))
	}
	return bs[0]
}

// eval evaluates an attribute of a block with the variables at their
// defaults; references to anything else are an error.
func (s *stack) eval(t *testing.T, b *hclsyntax.Block, name string) cty.Value {
	t.Helper()
	a, ok := b.Body.Attributes[name]
	if !ok {
		t.Fatalf("%s %v has no attribute %s", b.Type, b.Labels, name)
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(s.vars)}}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		t.Fatalf("%s %v: %s: %s", b.Type, b.Labels, name, diags.Error())
	}
	return v
}

// ref is the text of a reference expression such as var.operator_cidr.
func ref(t *testing.T, b *hclsyntax.Block, name string) string {
	t.Helper()
	a, ok := b.Body.Attributes[name]
	if !ok {
		t.Fatalf("%s %v has no attribute %s", b.Type, b.Labels, name)
	}
	e, ok := a.Expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		t.Fatalf("%s %v: %s is not a reference", b.Type, b.Labels, name)
	}
	var parts []string
	for _, step := range e.Traversal {
		switch st := step.(type) {
		case hcl.TraverseRoot:
			parts = append(parts, st.Name)
		case hcl.TraverseAttr:
			parts = append(parts, st.Name)
		}
	}
	return strings.Join(parts, ".")
}

// instanceSizes are the vCPU and memory (GiB) of the instance types the
// stack may default to.
var instanceSizes = map[string]struct{ vcpu, gib int }{
	"c5.2xlarge":  {8, 16},
	"c6i.2xlarge": {8, 16},
	"m5.2xlarge":  {8, 32},
	"m5.4xlarge":  {16, 64},
	"m6i.4xlarge": {16, 64},
}

func TestAWSNodeSizes(t *testing.T) {
	s := loadStack(t, "aws")
	tests := []struct {
		resource, typeVar string
		vcpu, gib         int
	}{
		{"gateway", "gateway_instance_type", 8, 16},
		{"storage", "storage_instance_type", 8, 16},
		{"worker", "worker_instance_type", 16, 64},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			b := s.one(t, "resource", "aws_instance", tt.resource)
			if got := ref(t, b, "instance_type"); got != "var."+tt.typeVar {
				t.Fatalf("instance_type = %s, want var.%s", got, tt.typeVar)
			}
			typ := s.eval(t, b, "instance_type").AsString()
			size, ok := instanceSizes[typ]
			if !ok {
				t.Fatalf("default %s = %q: size unknown to this test; add it to instanceSizes", tt.typeVar, typ)
			}
			if size.vcpu != tt.vcpu || size.gib != tt.gib {
				t.Errorf("%s is %d vCPU / %d GiB, want %d / %d", typ, size.vcpu, size.gib, tt.vcpu, tt.gib)
			}
			if got := ref(t, b, "ami"); got != "data.aws_ami.ubuntu.id" {
				t.Errorf("ami = %s, want the Ubuntu lookup data.aws_ami.ubuntu.id", got)
			}
			var disks []*hclsyntax.Block
			var pre []*hclsyntax.Block
			for _, nb := range b.Body.Blocks {
				switch nb.Type {
				case "root_block_device":
					disks = append(disks, nb)
				case "lifecycle":
					for _, pb := range nb.Body.Blocks {
						if pb.Type == "precondition" {
							pre = append(pre, pb)
						}
					}
				}
			}
			if len(disks) != 1 {
				t.Fatalf("%d root_block_device blocks, want 1", len(disks))
			}
			if v := s.eval(t, disks[0], "volume_size"); !v.Equals(cty.NumberIntVal(200)).True() {
				t.Errorf("root volume %s GB, want 200", v.AsBigFloat().String())
			}
			if v := s.eval(t, disks[0], "volume_type").AsString(); v != "gp3" {
				t.Errorf("root volume type %s, want gp3 (SSD)", v)
			}
			if len(pre) == 0 {
				t.Errorf("no precondition checks the instance type's size at plan time")
			}
		})
	}
	if n := s.vars["workers"]; !n.Equals(cty.NumberIntVal(3)).True() {
		t.Errorf("workers defaults to %s, want 3", n.AsBigFloat().String())
	}
	ami := s.one(t, "data", "aws_ami", "ubuntu")
	if got := s.eval(t, ami, "owners"); got.LengthInt() != 1 || got.Index(cty.NumberIntVal(0)).AsString() != "099720109477" {
		t.Errorf("AMI owners %#v, want Canonical's account only", got)
	}
}

func TestAWSSecurityGroup(t *testing.T) {
	s := loadStack(t, "aws")
	sg := s.one(t, "resource", "aws_security_group", "cluster")
	for _, nb := range sg.Body.Blocks {
		if nb.Type == "ingress" || nb.Type == "egress" {
			t.Errorf("inline %s block in the security group: rules are separate resources", nb.Type)
		}
	}
	ingress := s.find("resource", "aws_vpc_security_group_ingress_rule")
	if len(ingress) != 2 {
		t.Fatalf("%d ingress rules, want 2 (intra-cluster, SSH from the operator)", len(ingress))
	}
	var intra, ssh bool
	for _, r := range ingress {
		if got := ref(t, r, "security_group_id"); got != "aws_security_group.cluster.id" {
			t.Errorf("rule %s belongs to %s", r.Labels[1], got)
		}
		if _, ok := r.Body.Attributes["referenced_security_group_id"]; ok {
			if got := ref(t, r, "referenced_security_group_id"); got != "aws_security_group.cluster.id" {
				t.Errorf("rule %s admits %s, want the cluster's own group", r.Labels[1], got)
			}
			if _, ok := r.Body.Attributes["cidr_ipv4"]; ok {
				t.Errorf("intra-cluster rule %s also has a CIDR", r.Labels[1])
			}
			intra = true
			continue
		}
		if got := ref(t, r, "cidr_ipv4"); got != "var.operator_cidr" {
			t.Errorf("rule %s admits %s, want var.operator_cidr", r.Labels[1], got)
		}
		for _, a := range []string{"from_port", "to_port"} {
			if v := s.eval(t, r, a); !v.Equals(cty.NumberIntVal(22)).True() {
				t.Errorf("rule %s: %s = %s, want 22", r.Labels[1], a, v.AsBigFloat().String())
			}
		}
		if v := s.eval(t, r, "ip_protocol").AsString(); v != "tcp" {
			t.Errorf("rule %s: protocol %s, want tcp", r.Labels[1], v)
		}
		ssh = true
	}
	if !intra || !ssh {
		t.Errorf("intra-cluster rule present: %v, operator SSH rule present: %v", intra, ssh)
	}
	if _, ok := s.vars["operator_cidr"]; ok {
		t.Errorf("operator_cidr has a default: the operator must set it")
	}
	for _, typ := range []string{"aws_vpc", "aws_subnet"} {
		if n := len(s.find("resource", typ)); n != 1 {
			t.Errorf("%d %s resources, want 1", n, typ)
		}
	}
}

// inventoryOutputs are the outputs `faasflow cluster up` reads.
var inventoryOutputs = []string{
	"ansible_connection", "ansible_user", "gateway_private_ip", "nodes", "storage_private_ip", "worker_private_ips",
}

// nodeFields are the keys of each object in the nodes output.
var nodeFields = []string{"connect_to", "name", "private_ip", "role"}

func TestStackOutputs(t *testing.T) {
	for _, dir := range []string{"aws", "docker"} {
		t.Run(dir, func(t *testing.T) {
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("stack %s: %v", dir, err)
			}
			s := loadStack(t, dir)
			var names []string
			for _, b := range s.find("output") {
				names = append(names, b.Labels[0])
				if _, ok := b.Body.Attributes["description"]; !ok {
					t.Errorf("output %s has no description", b.Labels[0])
				}
			}
			sort.Strings(names)
			for _, want := range inventoryOutputs {
				if !slices.Contains(names, want) {
					t.Errorf("output %s missing (have %v)", want, names)
				}
			}
			nodes := s.one(t, "output", "nodes")
			objs := objectConstructors(nodes.Body.Attributes["value"].Expr)
			if len(objs) == 0 {
				t.Fatalf("nodes output builds no objects")
			}
			for _, o := range objs {
				var keys []string
				for _, item := range o.Items {
					k, diags := item.KeyExpr.Value(nil)
					if diags.HasErrors() {
						t.Fatalf("nodes key: %s", diags.Error())
					}
					keys = append(keys, k.AsString())
				}
				sort.Strings(keys)
				if !slices.Equal(keys, nodeFields) {
					t.Errorf("a node object has keys %v, want %v", keys, nodeFields)
				}
			}
		})
	}
}

// objectConstructors finds the object literals inside an expression.
func objectConstructors(e hclsyntax.Expression) []*hclsyntax.ObjectConsExpr {
	var out []*hclsyntax.ObjectConsExpr
	_ = hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		if o, ok := n.(*hclsyntax.ObjectConsExpr); ok {
			out = append(out, o)
		}
		return nil
	})
	return out
}
