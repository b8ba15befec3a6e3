// Command baseline times the reference collection the vSphere spec measures Fleetledger against: govmomi's
// ContainerView.Retrieve of every VM with the snapshot properties, plus one bulk Retrieve of the folders, compute
// resources, pools and hosts that place them, from login to logout. It prints one JSON line:
// {"vms":N,"entities":M,"ms":T}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/url"
	"os"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
)

var vmProperties = []string{
	"name", "config.uuid", "config.instanceUuid", "config.hardware.numCPU", "config.hardware.memoryMB",
	"config.createDate", "config.template", "config.managedBy", "runtime.powerState", "runtime.host",
	"resourcePool", "parent", "summary.storage.committed", "summary.storage.uncommitted",
}

var placementTypes = []string{
	"Folder", "Datacenter", "ClusterComputeResource", "ComputeResource", "ResourcePool", "VirtualApp", "HostSystem",
}

func main() {
	sdk := flag.String("url", "", "SDK URL")
	username := flag.String("username", "", "user name")
	password := flag.String("password", "", "password")
	insecure := flag.Bool("insecure", true, "skip certificate verification")
	flag.Parse()

	u, err := url.Parse(*sdk)
	if err != nil {
		log.Fatal(err)
	}
	u.User = url.UserPassword(*username, *password)

	ctx := context.Background()
	start := time.Now()
	client, err := govmomi.NewClient(ctx, u, *insecure)
	if err != nil {
		log.Fatal(err)
	}
	manager := view.NewManager(client.Client)

	vmView, err := manager.CreateContainerView(ctx, client.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		log.Fatal(err)
	}
	var vms []mo.VirtualMachine
	if err := vmView.Retrieve(ctx, []string{"VirtualMachine"}, vmProperties, &vms); err != nil {
		log.Fatal(err)
	}

	placementView, err := manager.CreateContainerView(ctx, client.ServiceContent.RootFolder, placementTypes, true)
	if err != nil {
		log.Fatal(err)
	}
	var entities []mo.ManagedEntity
	if err := placementView.Retrieve(ctx, placementTypes, []string{"name", "parent"}, &entities); err != nil {
		log.Fatal(err)
	}

	_ = vmView.Destroy(ctx)
	_ = placementView.Destroy(ctx)
	if err := client.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	elapsed := time.Since(start)

	_ = json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"vms":      len(vms),
		"entities": len(entities),
		"ms":       float64(elapsed.Microseconds()) / 1000,
	})
}
