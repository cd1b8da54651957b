package dev.pods.etcd;

import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import io.etcd.jetcd.Client;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A second client process for {@link EtcdIpAddressPoolTwoClientsTest}: connects to etcd, opens the pool, prints
 * {@code ready}, waits for a line on standard input, then allocates for each holder named on its command line and
 * prints {@code HOLDER BLOCK} per allocation, then {@code done}.
 *
 * <p>Arguments: endpoint, prefix, pool name, range, holders...
 */
public final class ClaimMain {
  private ClaimMain() {}

  /** Runs one client; see the class comment. */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
        StandardCharsets.UTF_8);
    try (Client client = Client.builder().endpoints(args[0]).build()) {
      IpAddressPool pool = new EtcdIpAddressPool(EtcdKeyspace.of(client, args[1]),
          IpPoolSpec.addresses(args[2], Cidr.parse(args[3])));
      pool.lookup("warm-up");
      out.println("ready");
      new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      for (String holder : List.of(args).subList(4, args.length)) {
        out.println(holder + " " + pool.allocate(holder));
      }
      out.println("done");
    }
  }
}
