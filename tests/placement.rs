//! Bin-packing quality on real container shapes: the 8,152 pods of the
//! Alibaba OpenB trace (`../shared/data/shapes/`), each placed as a task by
//! the placement engine's `binpack`, on one instance type, opening a new
//! instance only when a task fits nowhere.

mod common;
use capsim::placement::{self, BinpackField, Node, NodeAttrs, Request, Resources, Strategy};
use capsim::rng::{Component, stream};

#[test]
fn binpack_uses_at_most_a_quarter_more_than_the_lower_bound() {
    let Some(data) = common::reference_data() else {
        println!("skipped: reference data not found (../shared/data or $CAPSIM_REFERENCE_DATA)");
        return;
    };
    // One instance type large enough for every pod: r6i.32xlarge, 128 vCPU,
    // 1024 GiB, read from the shared EC2 catalog.
    let catalog =
        std::fs::read_to_string(data.join("catalogs/ec2_instance_types_karpenter.csv")).unwrap();
    let row: Vec<&str> = catalog
        .lines()
        .find(|l| l.starts_with("r6i.32xlarge,"))
        .expect("r6i.32xlarge in the catalog")
        .split(',')
        .collect();
    let (vcpu, mem): (u32, u32) = (row[3].parse().unwrap(), row[4].parse().unwrap());
    let capacity = Resources {
        cpu: vcpu * 1024,
        memory: mem,
        slots: u32::MAX,
    };

    let pods =
        std::fs::read_to_string(data.join("shapes/alibaba_openb_pod_list_default.csv")).unwrap();
    let mut reqs = Vec::new();
    for line in pods.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let cpu_milli: u64 = f[1].parse().unwrap();
        let mem_mib: u32 = f[2].parse().unwrap();
        reqs.push(Request {
            resources: Resources {
                cpu: (cpu_milli * 1024).div_ceil(1000) as u32,
                memory: mem_mib,
                slots: 0,
            },
            ports: Vec::new(),
            group: 0,
        });
    }
    assert_eq!(reqs.len(), 8152);
    let total_cpu: u64 = reqs.iter().map(|r| r.resources.cpu as u64).sum();
    let total_mem: u64 = reqs.iter().map(|r| r.resources.memory as u64).sum();
    let lower = (total_cpu as f64 / capacity.cpu as f64)
        .max(total_mem as f64 / capacity.memory as f64)
        .ceil() as usize;

    for field in [BinpackField::Cpu, BinpackField::Memory] {
        let strategies = [Strategy::Binpack(field)];
        let mut rng = stream(1, Component::Placement);
        let mut nodes: Vec<Node> = Vec::new();
        for r in &reqs {
            let i = match placement::place(&nodes, r, &[], &strategies, &mut rng) {
                Some(i) => i,
                None => {
                    let id = nodes.len() as u32;
                    nodes.push(Node::new(
                        id,
                        NodeAttrs {
                            instance_type: "r6i.32xlarge".into(),
                            family: "r6i".into(),
                            az: "us-east-1a".into(),
                            labels: Default::default(),
                        },
                        capacity,
                    ));
                    nodes.len() - 1
                }
            };
            nodes[i].allocate(r);
        }
        for n in &nodes {
            assert!(n.used.cpu <= n.capacity.cpu && n.used.memory <= n.capacity.memory);
        }
        let ratio = nodes.len() as f64 / lower as f64;
        println!(
            "binpack({field:?}): {} instances for a lower bound of {lower}: ratio {ratio:.3}",
            nodes.len()
        );
        assert!(
            ratio <= 1.25,
            "binpack({field:?}) used {} instances, lower bound {lower} (ratio {ratio:.3})",
            nodes.len()
        );
    }
}
