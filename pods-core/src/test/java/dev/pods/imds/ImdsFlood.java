package dev.pods.imds;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A hostile guest: floods one metadata service from several threads over raw sockets with what a guest controls
 * (new run ids, block reports, output chunks and reports of every size up to far too large, declared bodies of
 * 100 MB, long polls, idle connections), until stopped. Counts the answers by status class. Used by the bounds
 * test and by {@code ImdsFloodBenchmark}.
 */
final class ImdsFlood implements AutoCloseable {
  private final InetSocketAddress target;
  private final String token;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();
  private final List<Socket> idle = new ArrayList<>();
  /** Answers by status / 100 (index 0: no answer). */
  final AtomicLongArray answers = new AtomicLongArray(6);
  final AtomicLong requests = new AtomicLong();
  /** Requests without an answer, by kind (the case number in {@code loop}). */
  final AtomicLongArray unanswered = new AtomicLongArray(8);
  private static final ThreadLocal<Integer> KIND = ThreadLocal.withInitial(() -> 0);

  ImdsFlood(InetSocketAddress target, String token) {
    this.target = target;
    this.token = token;
  }

  /** Starts {@code workers} flooding threads and opens {@code idleConnections} connections that send nothing. */
  ImdsFlood start(int workers, int idleConnections) throws IOException {
    for (int i = 0; i < idleConnections; i++) {
      Socket s = new Socket();
      s.connect(target, 2000);
      idle.add(s);
    }
    for (int w = 0; w < workers; w++) {
      int seed = w;
      Thread t = new Thread(() -> loop(seed), "imds-flood-" + w);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    return this;
  }

  private void loop(int seed) {
    long n = seed * 1_000_000_000L;
    byte[] line = "x".repeat(2000).concat("\n").getBytes(StandardCharsets.US_ASCII);
    byte[] chunk = new byte[ImdsProtocol.MAX_OUTPUT_CHUNK_BYTES];
    for (int i = 0; i < chunk.length; i++) {
      chunk[i] = line[i % line.length];
    }
    while (!stop.get()) {
      n++;
      String run = "flood-" + n;
      KIND.set((int) (n % 8));
      switch ((int) (n % 8)) {
        case 0 -> request("POST", "/v1/runs/" + run + "/start?trigger=first_boot&blocks=0", new byte[0], -1);
        case 1 -> request("POST", "/v1/runs/" + run + "/blocks/0/start", new byte[0], -1);
        case 2 -> {
          request("POST", "/v1/runs/" + run + "/start?trigger=reboot&blocks=0", new byte[0], -1);
          request("POST", "/v1/runs/" + run + "/blocks/0/output?stream=stdout&offset=0", chunk, -1);
        }
        case 3 -> request("POST", "/v1/report", new byte[0], 100L * 1024 * 1024); // declared, never sent
        case 4 -> request("POST", "/v1/runs/" + run + "/blocks/0/output?stream=stderr&offset=0", new byte[0],
            ImdsProtocol.MAX_OUTPUT_CHUNK_BYTES + 1L);
        case 5 -> request("GET", "/v1/exec/next?wait=2", new byte[0], -1);
        case 6 -> request("POST", "/v1/report",
            ("run-start " + run + " first_boot 1 h 0\nblock-start " + run + " 0\n").getBytes(StandardCharsets.US_ASCII), -1);
        default -> request("POST", "/v1/runs/" + "r".repeat(5000) + "/start?trigger=reboot", new byte[0], -1);
      }
    }
  }

  /** One request on its own connection; {@code declared} >= 0 sends that Content-Length but not the body. */
  private void request(String method, String path, byte[] body, long declared) {
    requests.incrementAndGet();
    try (Socket s = new Socket()) {
      s.connect(target, 2000);
      s.setSoTimeout(10_000);
      long cl = declared >= 0 ? declared : body.length;
      String head = method + " " + path + " HTTP/1.1\r\nHost: imds\r\n" + ImdsProtocol.TOKEN_HEADER + ": " + token
          + "\r\nContent-Length: " + cl + "\r\nConnection: close\r\n\r\n";
      OutputStream out = s.getOutputStream();
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      if (declared < 0) {
        out.write(body);
      }
      out.flush();
      InputStream in = s.getInputStream();
      byte[] status = in.readNBytes(12);
      int code = status.length == 12 ? Integer.parseInt(new String(status, 9, 3, StandardCharsets.US_ASCII)) : 0;
      answers.incrementAndGet(code / 100);
    } catch (IOException | RuntimeException e) {
      answers.incrementAndGet(0);
      unanswered.incrementAndGet(KIND.get());
    }
  }

  @Override
  public void close() {
    stop.set(true);
    for (Thread t : threads) {
      try {
        t.join(15_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    for (Socket s : idle) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }

  @Override
  public String toString() {
    return requests.get() + " requests; answers 2xx " + answers.get(2) + ", 4xx " + answers.get(4) + ", 5xx "
        + answers.get(5) + ", none " + answers.get(0) + " (by kind " + unanswered + ")";
  }
}
