// Command vcsim serves govmomi's vCenter simulator (the VPX model) as the vim25 SOAP peer of Fleetledger's
// vSphere tests. Unlike the simulator's own layout, which puts every VM in a cluster's root pool and the
// datacenter's top vm folder, -vm is the total VM count spread over every resource pool and a chain of nested
// vm folders, so placement resolution (pool, cluster, folder path) has something to resolve.
//
// It prints the SDK URL as one line on stdout once it accepts requests, and runs until SIGINT/SIGTERM (or, with
// -stdin-watch, until stdin closes, so a test runner that dies does not leave it behind).
package main

import (
	"strings"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"net/url"
	"os"
	"os/signal"
	"path"
	"sort"
	"syscall"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type options struct {
	listen      string
	plainHTTP   bool
	username    string
	password    string
	datacenters int
	clusters    int
	hosts       int
	standalone  int
	pools       int
	poolNames   string
	vms         int
	vmFolders   int
	createDate  bool
	stdinWatch  bool
}

func main() {
	var o options
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on")
	flag.BoolVar(&o.plainHTTP, "http", false, "serve plain HTTP instead of TLS with the simulator's self-signed certificate")
	flag.StringVar(&o.username, "username", "user", "the only user name Login accepts")
	flag.StringVar(&o.password, "password", "pass", "the only password Login accepts")
	flag.IntVar(&o.datacenters, "dc", 1, "datacenters")
	flag.IntVar(&o.clusters, "cluster", 2, "clusters per datacenter")
	flag.IntVar(&o.hosts, "host", 2, "hosts per cluster")
	flag.IntVar(&o.standalone, "standalone-host", 0, "standalone hosts per datacenter")
	flag.IntVar(&o.pools, "pool", 2, "child resource pools per cluster (besides its root pool \"Resources\")")
	flag.StringVar(&o.poolNames, "pool-names", "", "comma-separated names given in turn to each cluster's child pools (e.g. Tin,Gold for vCTP tiers)")
	flag.IntVar(&o.vms, "vm", 12, "total virtual machines, spread round-robin over datacenters, pools and vm folders")
	flag.IntVar(&o.vmFolders, "vmfolder", 2, "nested folders under each datacenter's vm folder (a chain, F0/F1/...)")
	flag.BoolVar(&o.createDate, "createdate", true, "set config.createDate on the VMs, as vCenter 6.7+ does (the simulator leaves it unset)")
	flag.BoolVar(&o.stdinWatch, "stdin-watch", false, "exit when stdin reaches end of file")
	flag.Parse()

	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	model := simulator.VPX()
	model.Datacenter = o.datacenters
	model.Cluster = o.clusters
	model.ClusterHost = o.hosts
	model.Host = o.standalone
	model.Pool = o.pools
	model.Machine = 0
	model.Portgroup = 0
	defer model.Remove()

	if err := model.Create(); err != nil {
		return fmt.Errorf("create model: %w", err)
	}

	if o.poolNames != "" {
		renamePools(strings.Split(o.poolNames, ","))
	}

	ctx := context.Background()
	client, err := vim25.NewClient(ctx, model.Service)
	if err != nil {
		return fmt.Errorf("in-process client: %w", err)
	}
	if err := populate(ctx, client, o); err != nil {
		return err
	}

	// A fresh Userinfo (not simulator.DefaultLogin) makes SessionManager accept exactly these credentials.
	model.Service.Listen = &url.URL{Host: o.listen, User: url.UserPassword(o.username, o.password)}
	if !o.plainHTTP {
		model.Service.TLS = new(tls.Config)
	}
	server := model.Service.NewServer()
	defer server.Close()

	sdk := *server.URL
	sdk.User = nil
	fmt.Println(sdk.String())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	if o.stdinWatch {
		go func() {
			_, _ = io.Copy(ioutil.Discard, os.Stdin)
			stop <- syscall.SIGTERM
		}()
	}
	<-stop
	return nil
}

type datacenterLayout struct {
	folders []*object.Folder
	pools   []*object.ResourcePool
}

func populate(ctx context.Context, client *vim25.Client, o options) error {
	layouts, err := layout(ctx, client, o.vmFolders)
	if err != nil {
		return err
	}
	created := time.Now().UTC().Add(-time.Duration(o.vms) * time.Minute).Truncate(time.Second)

	for i := 0; i < o.vms; i++ {
		dc := layouts[i%len(layouts)]
		n := i / len(layouts)
		if len(dc.pools) == 0 {
			return fmt.Errorf("no resource pool to place VMs in (need -cluster or -standalone-host)")
		}
		folder := dc.folders[n%len(dc.folders)]
		pool := dc.pools[n%len(dc.pools)]

		ref, err := createVM(ctx, folder, pool, i)
		if err != nil {
			return err
		}
		vm := simulator.Map.Get(ref).(*simulator.VirtualMachine)
		if o.createDate {
			at := created.Add(time.Duration(i) * time.Minute)
			vm.Config.CreateDate = &at
		}
		if _, err := object.NewVirtualMachine(client, ref).PowerOn(ctx); err != nil {
			return fmt.Errorf("power on %s: %w", ref.Value, err)
		}
	}
	return nil
}

func createVM(ctx context.Context, folder *object.Folder, pool *object.ResourcePool, i int) (types.ManagedObjectReference, error) {
	name := fmt.Sprintf("VM%d", i)
	spec := types.VirtualMachineConfigSpec{
		Name:     name,
		GuestId:  string(types.VirtualMachineGuestOsIdentifierOtherGuest),
		NumCPUs:  int32(1 + i%4),
		MemoryMB: int64(1024 * (1 + i%8)),
		Files:    &types.VirtualMachineFileInfo{VmPathName: "[LocalDS_0]"},
	}

	var devices object.VirtualDeviceList
	scsi, err := devices.CreateSCSIController("pvscsi")
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	disk := devices.CreateDisk(scsi.(types.BaseVirtualController), types.ManagedObjectReference{},
		spec.Files.VmPathName+" "+path.Join(name, "disk1.vmdk"))
	disk.CapacityInKB = int64(1024 * 1024 * (10 + i%5*10))
	// vCenter reports both fields; with bytes set, the simulator's summary.storage.uncommitted is the disk size
	// instead of 0.
	disk.CapacityInBytes = disk.CapacityInKB * 1024
	devices = append(devices, scsi, disk)
	if spec.DeviceChange, err = devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd); err != nil {
		return types.ManagedObjectReference{}, err
	}

	task, err := folder.CreateVM(ctx, spec, pool, nil)
	if err != nil {
		return types.ManagedObjectReference{}, fmt.Errorf("create %s: %w", name, err)
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return types.ManagedObjectReference{}, fmt.Errorf("create %s: %w", name, err)
	}
	return info.Result.(types.ManagedObjectReference), nil
}

// layout lists, per datacenter in name order, the vm folders to fill (creating the nested chain) and every
// resource pool, sorted by owner and name so the same flags always give the same placement.
func layout(ctx context.Context, client *vim25.Client, nested int) ([]datacenterLayout, error) {
	dcs := simulator.Map.All("Datacenter")
	sort.Slice(dcs, func(i, j int) bool { return dcs[i].Entity().Name < dcs[j].Entity().Name })

	var layouts []datacenterLayout
	for _, e := range dcs {
		dc := object.NewDatacenter(client, e.Reference())
		dcFolders, err := dc.Folders(ctx)
		if err != nil {
			return nil, err
		}
		folders := []*object.Folder{dcFolders.VmFolder}
		for i := 0; i < nested; i++ {
			child, err := folders[len(folders)-1].CreateFolder(ctx, fmt.Sprintf("%s_F%d", e.Entity().Name, i))
			if err != nil {
				return nil, fmt.Errorf("create folder: %w", err)
			}
			folders = append(folders, child)
		}
		layouts = append(layouts, datacenterLayout{folders: folders, pools: poolsOf(client, e.Reference())})
	}
	return layouts, nil
}

func poolsOf(client *vim25.Client, dc types.ManagedObjectReference) []*object.ResourcePool {
	type keyed struct {
		key  string
		pool *object.ResourcePool
	}
	var found []keyed
	for _, e := range simulator.Map.All("ResourcePool") {
		owner, inDC := ownerIn(e, dc)
		if !inDC {
			continue
		}
		found = append(found, keyed{owner + "/" + e.Entity().Name, object.NewResourcePool(client, e.Reference())})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].key < found[j].key })
	pools := make([]*object.ResourcePool, len(found))
	for i := range found {
		pools[i] = found[i].pool
	}
	return pools
}

// ownerIn walks a pool's parents to name its compute resource and tell whether it lies in datacenter dc.
func ownerIn(e mo.Entity, dc types.ManagedObjectReference) (string, bool) {
	owner := ""
	for parent := e.Entity().Parent; parent != nil; {
		obj, ok := simulator.Map.Get(*parent).(mo.Entity)
		if !ok {
			return "", false
		}
		switch parent.Type {
		case "ClusterComputeResource", "ComputeResource":
			owner = obj.Entity().Name
		case "Datacenter":
			return owner, *parent == dc
		}
		parent = obj.Entity().Parent
	}
	return "", false
}

// renamePools names each cluster's child pools after the given list, in the order of their simulator names, so
// tests get vCTP's tier pools (Tin, Bronze, Silver, Gold); the simulator does not implement Rename_Task on pools.
func renamePools(names []string) {
	byParent := map[types.ManagedObjectReference][]mo.Entity{}
	for _, e := range simulator.Map.All("ResourcePool") {
		parent := e.Entity().Parent
		if parent == nil || parent.Type != "ResourcePool" {
			continue
		}
		byParent[*parent] = append(byParent[*parent], e)
	}
	for _, children := range byParent {
		sort.Slice(children, func(i, j int) bool { return children[i].Entity().Name < children[j].Entity().Name })
		for i, child := range children {
			child.Entity().Name = names[i%len(names)]
		}
	}
}
