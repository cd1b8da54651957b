package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.imds.ImdsServer;
import dev.pods.secrets.FileSecretStore;
import dev.pods.secrets.InMemorySecretStore;
import dev.pods.spec.Reference;
import dev.pods.spi.SecretStore;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets through the runtime, on the in-memory fakes with real metadata services on loopback: checked at deploy,
 * served to the declaring unit only, a change is a live change, and the value is written nowhere.
 */
class SecretsTest {
  private static final String PLANTED = "Pl4nted-v4lue-9f1c";
  @TempDir Path tmp;
  private final InMemorySecretStore secrets = new InMemorySecretStore();
  private final List<Runnable> tasks = new ArrayList<>();
  private final HttpClient client = HttpClient.newHttpClient();
  private InMemoryHypervisor hv;
  private InMemoryNetworkDriver net;
  private PodRuntime runtime;

  @BeforeEach
  void setUp() throws IOException {
    hv = InMemoryHypervisor.create();
    net = new InMemoryNetworkDriver();
    Files.writeString(tmp.resolve("vmlinuz"), "k");
    Files.writeString(tmp.resolve("initrd"), "i");
    runtime = runtime(secrets, "t");
  }

  /** A runtime on the fakes reading {@code store}, its files and names told apart by {@code name}. */
  private PodRuntime runtime(SecretStore store, String name) {
    BootImage image = BootImage.kernel(tmp.resolve("vmlinuz"), tmp.resolve("initrd"), "console=ttyS0");
    return PodRuntime.builder()
        .hypervisor(hv).networkDriver(net)
        .instanceFiles(new DirectoryInstanceFiles(tmp.resolve("instances-" + name)))
        .images(n -> image)
        .stateDir(tmp.resolve("state-" + name))
        .namePrefix(name + "-")
        .secrets(store)
        .metadataAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .executor(tasks::add)
        .build();
  }

  @AfterEach
  void tearDown() {
    runtime.close();
    hv.close();
    net.close();
  }

  private static Pod pod() {
    return Pod.builder().name("shop")
        .unit(Unit.builder().name("db").image("tiny").secret(Reference.of("secret", "shop-db")).build())
        .unit(Unit.builder().name("web").image("tiny").build())
        .build();
  }

  private Deployment deployed() {
    Deployment d = runtime.deploy(pod());
    List<Runnable> now = List.copyOf(tasks);
    tasks.clear();
    now.forEach(Runnable::run);
    return d;
  }

  private static ImdsServer imds(Deployment d, String unit) {
    return ((DefaultInstance) d.instance(unit, 0)).imds();
  }

  private HttpResponse<String> get(ImdsServer s, String path) throws IOException, InterruptedException {
    HttpRequest r = HttpRequest.newBuilder(URI.create(s.baseUri().toString().replaceAll("/$", "") + path))
        .header("X-Pods-Token", tokenOf(s)).GET().build();
    return client.send(r, HttpResponse.BodyHandlers.ofString());
  }

  private String tokenOf(ImdsServer s) {
    for (var d : runtime.deployments()) {
      for (var i : d.instances()) {
        if (((DefaultInstance) i).imds() == s) {
          return ((DefaultInstance) i).token;
        }
      }
    }
    throw new AssertionError("no instance has " + s);
  }

  @Test
  void aDeclaredSecretWithoutValueFailsTheDeployAndLeavesNothing() throws IOException {
    assertThatThrownBy(this::deployed).isInstanceOf(PodsException.class)
        .hasMessageContaining("unit db declares secret +/secret/shop-db")
        .hasMessageContaining("no value for 'shop-db'");
    assertThat(runtime.deployments()).isEmpty();
    assertThat(hv.list(runtime.owner())).isEmpty();
    try (Stream<Path> s = Files.list(tmp.resolve("state-t"))) {
      assertThat(s.filter(p -> p.getFileName().toString().equals("deployments")).flatMap(p -> {
        try {
          return Files.list(p);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).toList()).isEmpty();
    }
  }

  @Test
  void onlyTheDeclaringUnitReadsTheSecret() throws Exception {
    secrets.put("shop-db", Map.of("password", PLANTED, "user", "shop"));
    Deployment d = deployed();
    ImdsServer db = imds(d, "db");
    ImdsServer web = imds(d, "web");

    HttpResponse<String> field = get(db, "/v1/query/secret/shop-db/password");
    assertThat(field.statusCode()).isEqualTo(200);
    assertThat(field.body()).isEqualTo(PLANTED + "\n");
    HttpResponse<String> all = get(db, "/v1/query/secret/shop-db");
    assertThat(all.statusCode()).isEqualTo(200);
    assertThat(all.body()).isEqualTo("{\"password\":\"" + PLANTED + "\",\"user\":\"shop\"}");
    assertThat(get(db, "/v1/query/secret/shop-db/nokey").statusCode()).isEqualTo(404);

    HttpResponse<String> refused = get(web, "/v1/query/secret/shop-db/password");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).contains("unit web does not declare +/secret/shop-db").doesNotContain(PLANTED);
    assertThat(get(web, "/v1/query/secret/shop-db").statusCode()).isEqualTo(403);
    assertThat(get(web, "/v1/query/secret/unknown/x").statusCode()).isEqualTo(403);
    assertThat(get(db, "/v1/meta-data").body()).contains("\"secrets\":[\"shop-db\"]").doesNotContain(PLANTED);
  }

  @Test
  void aChangedValueChangesTheDeclarersStateOnly() throws Exception {
    secrets.put("shop-db", Map.of("password", PLANTED));
    Deployment d = deployed();
    String dbHash = imds(d, "db").stateHash();
    String webHash = imds(d, "web").stateHash();
    secrets.put("shop-db", Map.of("password", PLANTED + "-rotated"));
    assertThat(imds(d, "db").stateHash()).isNotEqualTo(dbHash);
    assertThat(imds(d, "web").stateHash()).isEqualTo(webHash);
    assertThat(get(imds(d, "db"), "/v1/query/secret/shop-db/password").body()).isEqualTo(PLANTED + "-rotated\n");
    secrets.put("unrelated", Map.of("k", "v"));
    assertThat(imds(d, "web").stateHash()).isEqualTo(webHash);
  }

  @Test
  void aFileSecretEditedByHandChangesTheDeclarersState() throws Exception {
    runtime.close();
    FileSecretStore files = FileSecretStore.open(tmp.resolve("secrets"));
    files.put("shop-db", Map.of("password", PLANTED));
    runtime = runtime(files, "f");
    Deployment d = deployed();
    String dbHash = imds(d, "db").stateHash();
    String webHash = imds(d, "web").stateHash();

    // an operator rotates the value with an editor: no call to the store
    Files.writeString(files.dir().resolve("shop-db.secret"), "{\"password\": \"" + PLANTED + "-rotated\"}");
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (imds(d, "db").stateHash().equals(dbHash) && System.nanoTime() < end) {
      Thread.onSpinWait();
    }
    assertThat(imds(d, "db").stateHash()).as("the declarer's state (its reload)").isNotEqualTo(dbHash);
    assertThat(imds(d, "web").stateHash()).isEqualTo(webHash);
    assertThat(get(imds(d, "db"), "/v1/query/secret/shop-db/password").body()).isEqualTo(PLANTED + "-rotated\n");
  }

  @Test
  void theValueIsWrittenNowhere() throws Exception {
    secrets.put("shop-db", Map.of("password", PLANTED));
    Deployment d = deployed();
    get(imds(d, "db"), "/v1/query/secret/shop-db/password");
    secrets.put("shop-db", Map.of("password", PLANTED + "2"));
    d.scale("web", 2);
    runtime.close();
    List<Path> leaks;
    try (Stream<Path> s = Files.walk(tmp)) {
      leaks = s.filter(Files::isRegularFile).filter(p -> {
        try {
          return new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1).contains(PLANTED);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).toList();
    }
    assertThat(leaks).isEmpty();
    assertThat(d.events().toString()).doesNotContain(PLANTED);
  }

  @Test
  void aPlanAddingAnUndeclaredValueIsRefused() {
    Deployment d = runtime.deploy(Pod.builder().name("shop")
        .unit(Unit.builder().name("web").image("tiny").build()).build());
    Pod next = d.pod().withUnit(Unit.builder().name("web").image("tiny")
        .secret(Reference.of("secret", "later")).build());
    assertThatThrownBy(() -> d.plan(next)).isInstanceOf(PodsException.class)
        .hasMessageContaining("unit web declares secret +/secret/later");
    secrets.put("later", Map.of("k", "v"));
    assertThat(d.plan(next).toText()).contains("secrets");
  }
}
