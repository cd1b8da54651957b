package dev.pods.kvm.internal;

import dev.pods.ImagePolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.util.Timeout;

/**
 * Downloads one image URL under an {@link ImagePolicy}: http(s) only, the URL and every redirect checked by the
 * policy, each host name resolved once and every address it resolves to checked, the connection made to those
 * checked addresses only (Apache HttpClient with a resolver that hands out nothing else), at most
 * {@link ImagePolicy#maxImageBytes()} bytes. Not thread-safe: one instance per download.
 */
public final class ImageDownload {
  /** More redirects than this is an error. */
  public static final int MAX_REDIRECTS = 5;

  private final ImagePolicy policy;
  private final Map<String, InetAddress[]> checked = new ConcurrentHashMap<>();

  /** Thrown when the policy refuses a URL, a redirect or a destination address; the message names the rule. */
  public static final class RefusedException extends IOException {
    private static final long serialVersionUID = 1L;

    RefusedException(String message) {
      super(message);
    }
  }

  /** A destination the policy refuses, raised from inside the client's resolver. */
  private static final class RefusedHost extends UnknownHostException {
    private static final long serialVersionUID = 1L;

    RefusedHost(String message) {
      super(message);
    }
  }

  /** A download under {@code policy}. */
  public ImageDownload(ImagePolicy policy) {
    this.policy = policy;
  }

  /**
   * Resolves {@code host} once and checks every address; later calls for the same host return the same checked
   * addresses. Package-visible for tests.
   */
  InetAddress[] resolve(String host) throws UnknownHostException {
    InetAddress[] known = checked.get(host);
    if (known != null) {
      return known.clone();
    }
    String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    InetAddress[] all = InetAddress.getAllByName(h);
    for (InetAddress a : all) {
      Optional<String> r = policy.refusal(a);
      if (r.isPresent()) {
        throw new RefusedHost(host + " resolves to " + a.getHostAddress() + ": " + r.get());
      }
    }
    checked.put(host, all.clone());
    return all;
  }

  /**
   * Writes the body of {@code url} (following at most {@link #MAX_REDIRECTS} redirects, each checked) to
   * {@code out}; blocks until done.
   *
   * @param total receives the announced length ({@code -1}: unknown) before the body
   * @param progress receives the byte count written so far, now and then
   * @return the number of bytes written
   * @throws RefusedException when the policy refuses a URL, a redirect, an address or the size
   * @throws IOException when the download fails, answers another status than 200, or ends early
   */
  public long fetch(URI url, OutputStream out, LongConsumer total, LongConsumer progress) throws IOException {
    DnsResolver dns = new DnsResolver() {
      @Override
      public InetAddress[] resolve(String host) throws UnknownHostException {
        return ImageDownload.this.resolve(host);
      }

      @Override
      public String resolveCanonicalHostname(String host) {
        return host;
      }
    };
    try (CloseableHttpClient client = HttpClients.custom()
        .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create().setDnsResolver(dns)
            .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(Timeout.ofSeconds(30))
                .setSocketTimeout(Timeout.ofMinutes(2)).build())
            .build())
        .disableRedirectHandling().disableAutomaticRetries().disableCookieManagement().disableContentCompression()
        .disableAuthCaching().build()) {
      URI current = withoutFragment(url);
      for (int hop = 0; ; hop++) {
        Optional<String> refused = policy.refusal(current);
        if (refused.isPresent()) {
          throw new RefusedException((hop == 0 ? "" : "redirect to ") + current + ": " + refused.get());
        }
        try {
          resolve(current.getHost()); // before any connection: a clear error, and the addresses it will use
        } catch (RefusedHost e) {
          throw new RefusedException((hop == 0 ? "" : "redirect to ") + current + ": " + e.getMessage());
        }
        try (ClassicHttpResponse resp = client.executeOpen(null, new HttpGet(current), null)) {
          int code = resp.getCode();
          if (code == 301 || code == 302 || code == 303 || code == 307 || code == 308) {
            Header location = resp.getFirstHeader("Location");
            if (location == null) {
              throw new IOException("GET " + current + " answered HTTP " + code + " without a Location");
            }
            if (hop + 1 > MAX_REDIRECTS) {
              throw new RefusedException("GET " + url + " was redirected more than " + MAX_REDIRECTS + " times");
            }
            current = redirect(current, location.getValue());
            continue;
          }
          if (code != 200) {
            throw new IOException("GET " + current + " answered HTTP " + code);
          }
          HttpEntity entity = resp.getEntity();
          long length = entity == null ? 0 : entity.getContentLength();
          if (length > policy.maxImageBytes()) {
            throw new RefusedException(current + " is " + length + " bytes, over the image size bound of "
                + policy.maxImageBytes() + " bytes");
          }
          total.accept(length);
          long n = entity == null ? 0 : copy(entity.getContent(), out, current, progress);
          if (length >= 0 && n != length) {
            throw new IOException(current + " ended after " + n + " of " + length + " bytes");
          }
          return n;
        } catch (RefusedHost e) {
          throw new RefusedException(current + ": " + e.getMessage());
        }
      }
    }
  }

  private long copy(InputStream body, OutputStream out, URI from, LongConsumer progress) throws IOException {
    byte[] buf = new byte[1 << 16];
    long n = 0;
    long reported = 0;
    try (InputStream in = body) {
      int r;
      while ((r = in.read(buf)) >= 0) {
        n += r;
        if (n > policy.maxImageBytes()) {
          throw new RefusedException(from + " is larger than the image size bound of " + policy.maxImageBytes()
              + " bytes");
        }
        out.write(buf, 0, r);
        if (n - reported >= (1 << 20)) {
          reported = n;
          progress.accept(n);
        }
      }
    }
    return n;
  }

  /** The target of a redirect, resolved against the URL that answered it; fragments dropped. */
  static URI redirect(URI from, String location) throws RefusedException {
    try {
      return withoutFragment(from.resolve(new URI(location.strip())));
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw new RefusedException("GET " + from + " redirected to an invalid URL");
    }
  }

  private static URI withoutFragment(URI u) {
    if (u.getRawFragment() == null) {
      return u;
    }
    String s = u.toString();
    return URI.create(s.substring(0, s.indexOf('#')));
  }
}
