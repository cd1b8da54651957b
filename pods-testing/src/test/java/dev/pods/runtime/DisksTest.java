package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.ConflictException;
import dev.pods.Deployment;
import dev.pods.Disks;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.spec.Mount;
import dev.pods.spec.Reference;
import dev.pods.spi.DiskStore;
import dev.pods.spi.DomainDisk;
import dev.pods.spi.DomainInfo;
import dev.pods.testing.DirectoryDiskStore;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Named persistent disks through the runtime, on the in-memory fakes and the directory disk store. */
class DisksTest {
  @TempDir Path tmp;
  private final List<Runnable> tasks = new ArrayList<>();
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private DirectoryDiskStore store;
  private PodRuntime runtime;

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    store = new DirectoryDiskStore(tmp.resolve("disks"));
    runtime = builder().disks(store).build();
  }

  private PodRuntime.Builder builder() throws IOException {
    BootImage image = BootImage.kernel(Files.writeString(tmp.resolve("vmlinuz"), "k"),
        Files.writeString(tmp.resolve("initrd"), "i"), "console=ttyS0");
    return PodRuntime.builder()
        .hypervisor(hv).networkDriver(net)
        .instanceFiles(new DirectoryInstanceFiles(tmp.resolve("instances")))
        .images(name -> image)
        .stateDir(tmp.resolve("state"))
        .namePrefix("t-")
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .executor(tasks::add);
  }

  @AfterEach
  void tearDown() {
    runtime.close();
    hv.close();
    net.close();
  }

  private static Mount disks(String path, String... names) {
    List<Reference> refs = new ArrayList<>();
    for (String n : names) {
      refs.add(Reference.of("disk", n));
    }
    return new Mount("data", Mount.Type.DISK, path, null, refs);
  }

  private static Pod pod(String name, int count, String... disks) {
    return Pod.builder().name(name)
        .unit(Unit.builder().name("db").image("tiny").count(count).mount(disks("/srv/data", disks)).build())
        .build();
  }

  private Deployment deployed(Pod p) {
    Deployment d = runtime.deploy(p);
    runTasks();
    return d;
  }

  private void runTasks() {
    List<Runnable> now = List.copyOf(tasks);
    tasks.clear();
    now.forEach(Runnable::run);
  }

  @Test
  void eachInstanceGetsItsDiskCreatedOnFirstUseBySerialNumber() throws Exception {
    Deployment d = deployed(pod("shop", 2, "db-a", "db-b"));
    List<DomainDisk> disks0 = domain(d, 0).disks();
    List<DomainDisk> disks1 = domain(d, 1).disks();
    assertThat(disks0).singleElement().satisfies(x -> {
      assertThat(x.path()).isEqualTo(store.find("db-a").orElseThrow().path());
      assertThat(x.serial()).isEqualTo("pods-m0");
      assertThat(x.readOnly()).isFalse();
    });
    assertThat(disks1).singleElement().extracting(DomainDisk::path)
        .isEqualTo(store.find("db-b").orElseThrow().path());
    assertThat(store.find("db-a").orElseThrow().sizeBytes()).isEqualTo(DiskStore.DEFAULT_SIZE_BYTES);
    assertThat(runtime.disks().list()).extracting(Disks.Disk::name, Disks.Disk::usedBy)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("db-a", "shop/db-0"),
            org.assertj.core.groups.Tuple.tuple("db-b", "shop/db-1"));
    // the agent learns where to mount it from its spec
    String spec = imdsGet(d, 0, "/v1/spec");
    assertThat(spec).contains("mount disk pods-m0 "
        + Base64.getEncoder().encodeToString("/srv/data".getBytes(StandardCharsets.UTF_8)) + "\n");
  }

  private dev.pods.spi.DomainSpec domain(Deployment d, int index) {
    String name = d.instance("db", index).domainName();
    return hv.list(runtime.owner()).stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow().spec();
  }

  private String imdsGet(Deployment d, int index, String path) throws Exception {
    DefaultInstance i = (DefaultInstance) d.instance("db", index);
    var req = java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(i.imds().baseUri().toString().replaceAll("/$", "") + path))
        .header("X-Pods-Token", i.token).GET().build();
    return java.net.http.HttpClient.newHttpClient().send(req, java.net.http.HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void aPresizedDiskIsUsedAsItIsAndOutlivesDestroyButNotDelete() {
    runtime.disks().create("db-a", 3L << 30);
    assertThatThrownBy(() -> runtime.disks().create("db-a", 1L << 30)).isInstanceOf(ConflictException.class);
    Deployment d = deployed(pod("shop", 1, "db-a"));
    assertThat(runtime.disks().find("db-a").orElseThrow().sizeBytes()).isEqualTo(3L << 30);
    assertThatThrownBy(() -> runtime.disks().delete("db-a")).isInstanceOf(ConflictException.class)
        .hasMessageContaining("in use by shop/db-0");
    d.destroy();
    assertThat(runtime.disks().find("db-a")).get().extracting(Disks.Disk::usedBy).isNull();
    runtime.disks().delete("db-a");
    assertThat(runtime.disks().list()).isEmpty();
  }

  @Test
  void tooFewDisksOrADiskInUseFailTheDeployNamingUnitAndCount() {
    assertThatThrownBy(() -> runtime.deploy(pod("shop", 3, "a", "b")))
        .isInstanceOf(PodsException.class)
        .hasMessageContaining("unit db mounts[0] (/srv/data) lists 2 disk(s) for count 3");
    deployed(pod("shop", 1, "a"));
    assertThatThrownBy(() -> runtime.deploy(pod("other", 1, "a")))
        .isInstanceOf(PodsException.class).hasMessageContaining("disk a is in use by shop/db-0");
    Pod twice = Pod.builder().name("twice")
        .unit(Unit.builder().name("x").image("tiny").mount(disks("/d", "z")).build())
        .unit(Unit.builder().name("y").image("tiny").mount(disks("/d", "z")).build()).build();
    assertThatThrownBy(() -> runtime.deploy(twice)).isInstanceOf(PodsException.class)
        .hasMessageContaining("both x-0 and y-0 would use it");
    assertThat(runtime.deployments()).extracting(x -> x.pod().name()).containsExactly("shop");
    assertThat(store.list()).extracting(DiskStore.Volume::name).containsExactly("a");
  }

  @Test
  void aRuntimeWithoutDiskStoreRefusesDiskMounts() throws IOException {
    runtime.close();
    runtime = builder().build();
    assertThatThrownBy(() -> runtime.deploy(pod("shop", 1, "a"))).isInstanceOf(PodsException.class)
        .hasMessageContaining("the runtime has no disk store");
    assertThat(runtime.disks().list()).isEmpty();
  }

  @Test
  void hostFoldersOutsideThePolicyAreRefusedAndAllowedOnesShared() throws IOException {
    Path allowed = Files.createDirectories(tmp.resolve("allowed/share"));
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.createSymbolicLink(tmp.resolve("allowed/escape"), outside);
    runtime.close();
    runtime = builder().disks(store).hostFolder(tmp.resolve("allowed")).build();
    java.util.function.Function<String, Pod> pod = host -> Pod.builder().name("hf")
        .unit(Unit.builder().name("web").image("tiny")
            .mount(new Mount(null, Mount.Type.HOST_PATH, "/srv/www", host, List.of()))
            .mount(new Mount(null, Mount.Type.HOST_PATH, "/srv/rw", allowed.toString(), List.of(), false)).build())
        .build();
    assertThatThrownBy(() -> runtime.deploy(pod.apply(outside.toString()))).isInstanceOf(PodsException.class)
        .hasMessageContaining("unit web mounts[0] (/srv/www): hostPath " + outside + " is outside the host folders");
    assertThatThrownBy(() -> runtime.deploy(pod.apply(tmp.resolve("allowed/escape").toString())))
        .isInstanceOf(PodsException.class).hasMessageContaining("(" + outside + ") is outside");
    assertThatThrownBy(() -> runtime.deploy(pod.apply(tmp.resolve("allowed/nope").toString())))
        .isInstanceOf(PodsException.class).hasMessageContaining("does not exist on this host");
    assertThat(runtime.deployments()).isEmpty();

    Deployment d = runtime.deploy(pod.apply(allowed.toString()));
    runTasks();
    String name = d.instance("web", 0).domainName();
    var spec = hv.list(runtime.owner()).stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow().spec();
    assertThat(spec.filesystems()).containsExactly(
        new dev.pods.spi.DomainFilesystem(allowed.toRealPath(), "podsfs0", true),
        new dev.pods.spi.DomainFilesystem(allowed.toRealPath(), "podsfs1", false));
    DefaultInstance i = (DefaultInstance) d.instance("web", 0);
    String text = i.imds().view().spec().mounts().toString();
    assertThat(text).contains("readOnly=true").contains("readOnly=false");
  }

  @Test
  void aDiskAttachedToADomainOfAnotherRuntimeIsInUse() throws IOException {
    var v = store.create("shared", 1024L * 1024 * 1024);
    // another runtime (another owner: a second `pods up` on the same data folder) runs a domain with it attached
    hv.define(dev.pods.spi.DomainSpec.builder("other-db-0")
        .metadata(new dev.pods.spi.DomainMetadata("another/owner", "other", "db", 0, "v"))
        .memoryMib(128).vcpus(1).boot(dev.pods.spi.DomainBoot.disk())
        .disk(dev.pods.spi.DomainDisk.qcow2(v.path())).build());

    assertThatThrownBy(() -> runtime.deploy(Pod.builder().name("mine")
        .unit(Unit.builder().name("db").image("tiny").mount(disks("/data", "shared")).build()).build()))
        .isInstanceOf(PodsException.class)
        .hasMessageContaining("disk shared is in use by other/db-0 (domain other-db-0 of another runtime)");
    assertThatThrownBy(() -> runtime.disks().delete("shared")).hasMessageContaining("in use by other/db-0");
    assertThat(runtime.deployments()).isEmpty();
  }

  @Test
  void aRefusedHostFolderFromATemplateIsNamedAtItsLine() throws IOException {
    Path f = Files.createDirectories(tmp.resolve("f"));
    Mount declared = new Mount(null, Mount.Type.HOST_PATH, "/srv", f.toString(), List.of(), true,
        new dev.pods.SourceLocation("web.md", 12, 5));
    assertThat(declared).isEqualTo(new Mount(null, Mount.Type.HOST_PATH, "/srv", f.toString(), List.of()));
    assertThatThrownBy(() -> runtime.deploy(Pod.builder().name("hf").unit(Unit.builder().name("web").image("tiny")
        .mount(declared).build()).build()))
        .isInstanceOf(PodsException.class).hasMessageContaining("web.md:12:5: unit web mounts[0] (/srv): hostPath");
  }

  @Test
  void withoutAPolicyEveryHostFolderIsRefused() throws IOException {
    Path f = Files.createDirectories(tmp.resolve("f"));
    assertThatThrownBy(() -> runtime.deploy(Pod.builder().name("hf").unit(Unit.builder().name("web").image("tiny")
        .mount(new Mount(null, Mount.Type.HOST_PATH, "/srv", f.toString(), List.of())).build()).build()))
        .isInstanceOf(PodsException.class).hasMessageContaining("allows (none: PodRuntime.Builder.hostFolder");
  }
}
