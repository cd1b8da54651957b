package com.example.shop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Unit;
import dev.pods.spi.DomainState;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A host application's unit test: a pod deployed on pods-testing's in-memory hypervisor and network driver. */
class ShopOnFakesTest {
  @TempDir Path tmp;

  @Test
  void aPodDeploysOnTheFakesAndIsDestroyed() throws Exception {
    InMemoryHypervisor hv = InMemoryHypervisor.create();
    BootImage image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"), null, "");
    Pod shop = Pod.builder().name("shop")
        .unit(Unit.builder().name("web").image("tiny").count(2).build())
        .build();
    try (PodRuntime runtime = PodRuntime.builder()
        .hypervisor(hv)
        .networkDriver(new InMemoryNetworkDriver())
        .instanceFiles(new DirectoryInstanceFiles(tmp.resolve("instances")))
        .images(name -> image)
        .stateDir(tmp.resolve("state"))
        .metadataAddress(new InetSocketAddress("127.0.0.1", 0))
        .executor(Runnable::run) // instances are built inside deploy()
        .build()) {
      Deployment d = runtime.deploy(shop);
      assertEquals(2, d.instances().size());
      for (Instance i : d.instances()) {
        assertEquals(InstanceState.BOOTING, i.state(), i.name());
        assertEquals(DomainState.RUNNING, hv.state(i.domainName()), i.name());
      }
      String web0 = d.instance("web", 0).domainName();
      d.destroy();
      assertTrue(hv.find(web0).isEmpty(), "the domain is gone after destroy()");
    }
  }
}
