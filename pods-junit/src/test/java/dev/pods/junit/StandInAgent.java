package dev.pods.junit;

import dev.pods.Instance;
import dev.pods.imds.ImdsProtocol;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * What a guest's agent does on first boot, done by a Java thread against the instance's real metadata service
 * (on loopback, where the runtime bound it "inside" the in-memory network driver's namespace): reads
 * the token from the instance's seed, fetches the spec, and reports a first-boot run of every block over the
 * protocol ({@link ImdsProtocol}). It does not run shell: it plays each block's lines {@code echo TEXT} (an output
 * line {@code TEXT}), {@code exit N} (the block ends with that code, the run fails when N is not 0) and
 * {@code sleep infinity} (the run never ends); other lines do nothing. Exec requests are not served.
 */
final class StandInAgent {
  private final InetSocketAddress listener;
  private final Instance instance;
  private final String token;

  /**
   * @param listener where the instance's metadata service listens (what 169.254.169.254:80 is inside a real
   *     instance's namespace)
   * @param seedConfig the agent configuration on the instance's seed
   */
  StandInAgent(InetSocketAddress listener, Instance instance, Path seedConfig) throws IOException {
    this.listener = listener;
    this.instance = instance;
    this.token = Files.readAllLines(seedConfig).stream().filter(l -> l.startsWith("token="))
        .map(l -> l.substring("token=".length())).findFirst()
        .orElseThrow(() -> new IOException("no token in " + seedConfig));
  }

  /** Plays the first boot; returns when the run ended (or at once after a {@code sleep infinity}). */
  void firstBoot() throws IOException {
    String spec = request("GET", "/v1/spec", new byte[0]);
    String version = "";
    String hash = "";
    List<String> blocks = new ArrayList<>();
    for (String l : spec.lines().toList()) {
      String[] f = l.split(" ");
      switch (f[0]) {
        case "version" -> version = f.length > 1 ? f[1] : "";
        case "hash" -> hash = f.length > 1 ? f[1] : "";
        case "block" -> blocks.add(new String(Base64.getDecoder().decode(f[5]), StandardCharsets.UTF_8));
        default -> { }
      }
    }
    List<String> indexes = new ArrayList<>();
    for (int i = 0; i < blocks.size(); i++) {
      indexes.add(Integer.toString(i));
    }
    String run = "r1";
    request("POST", "/v1/runs/" + run + "/start?trigger=first_boot&version=" + version + "&hash=" + hash
        + "&blocks=" + String.join(",", indexes), new byte[0]);
    for (int i = 0; i < blocks.size(); i++) {
      request("POST", "/v1/runs/" + run + "/blocks/" + i + "/start", new byte[0]);
      StringBuilder out = new StringBuilder();
      int exit = 0;
      for (String line : blocks.get(i).lines().map(String::strip).toList()) {
        if (line.startsWith("echo ")) {
          out.append(line.substring(5)).append('\n');
        } else if (line.startsWith("exit ")) {
          exit = Integer.parseInt(line.substring(5).strip());
          break;
        } else if (line.equals("sleep infinity")) {
          post(run, i, out);
          return;
        }
      }
      post(run, i, out);
      request("POST", "/v1/runs/" + run + "/blocks/" + i + "/end?exit=" + exit + "&timedOut=false", new byte[0]);
      if (exit != 0) {
        request("POST", "/v1/runs/" + run + "/end?ok=false&failedBlock=" + i + "&exit=" + exit, new byte[0]);
        return;
      }
    }
    request("POST", "/v1/runs/" + run + "/end?ok=true", new byte[0]);
  }

  private void post(String run, int block, StringBuilder out) throws IOException {
    if (out.length() > 0) {
      request("POST", "/v1/runs/" + run + "/blocks/" + block + "/output?stream=stdout&offset=0",
          out.toString().getBytes(StandardCharsets.UTF_8));
    }
  }

  /** One HTTP/1.1 exchange on a fresh connection; returns the body of a 2xx answer. */
  private String request(String method, String path, byte[] body) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(listener, 5_000);
      s.setSoTimeout(10_000);
      OutputStream o = s.getOutputStream();
      String head = method + " " + path + " HTTP/1.1\r\nHost: 169.254.169.254\r\n" + ImdsProtocol.TOKEN_HEADER
          + ": " + token + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
      o.write(head.getBytes(StandardCharsets.US_ASCII));
      o.write(body);
      o.flush();
      InputStream in = s.getInputStream();
      String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      int end = answer.indexOf("\r\n\r\n");
      if (end < 0 || !answer.matches("(?s)HTTP/1\\.1 2\\d\\d.*")) {
        throw new IOException(method + " " + path + " of " + instance.name() + ": " + answer);
      }
      return answer.substring(end + 4);
    }
  }
}
