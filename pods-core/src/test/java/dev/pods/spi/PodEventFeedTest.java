package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.PodEvent;
import dev.pods.PodEvents;
import dev.pods.OutputStream;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PodEventFeedTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final PodEventFeed feed = new PodEventFeed(Clock.fixed(T0, ZoneOffset.UTC));

  @AfterEach
  void close() {
    feed.close();
  }

  private static PodEvent line(int n) {
    return new PodEvent.OutputLine("web-0", T0, "run", 0, OutputStream.STDOUT, Integer.toString(n));
  }

  private static PodEvent take(BlockingQueue<PodEvent> q) throws InterruptedException {
    PodEvent e = q.poll(30, TimeUnit.SECONDS);
    assertThat(e).as("an event within 30 s").isNotNull();
    return e;
  }

  @Test
  void aSlowSubscriberLosesWhatDoesNotFitIsToldHowManyAndDelaysNobodyElse() throws Exception {
    CountDownLatch inFirst = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    BlockingQueue<PodEvent> slow = new LinkedBlockingQueue<>();
    feed.subscribe(e -> {
      slow.add(e);
      if (inFirst.getCount() > 0) {
        inFirst.countDown();
        try {
          release.await();
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
        }
      }
    });
    feed.publish(line(0));
    assertThat(inFirst.await(30, TimeUnit.SECONDS)).isTrue();

    int flood = 2 * PodEvents.QUEUE_CAPACITY;
    for (int i = 1; i <= flood; i++) {
      feed.publish(line(i)); // returns although the subscriber is stuck
    }
    BlockingQueue<PodEvent> other = new LinkedBlockingQueue<>();
    feed.subscribe(other::add);
    feed.publish(line(flood + 1));
    assertThat(take(other)).isEqualTo(line(flood + 1)); // while the slow one is still stuck in event 0
    release.countDown();

    List<PodEvent> got = new ArrayList<>();
    long lines = 0;
    long lost = 0;
    while (lines + lost < flood + 2) {
      PodEvent e = take(slow);
      got.add(e);
      if (e instanceof PodEvent.EventsDropped d) {
        lost += d.count();
      } else {
        lines++;
      }
    }
    // event 0 was being delivered; the flood's first QUEUE_CAPACITY events filled the buffer, the rest of it and
    // the last event (published while the buffer was still full) were lost
    assertThat(lines).isEqualTo(1 + PodEvents.QUEUE_CAPACITY);
    assertThat(lost).isEqualTo(flood - PodEvents.QUEUE_CAPACITY + 1);
    // in order, the notice as soon as the subscriber returned from the event it was handling
    assertThat(got.get(0)).isEqualTo(line(0));
    assertThat(got.get(1)).isEqualTo(new PodEvent.EventsDropped("*", T0, flood - PodEvents.QUEUE_CAPACITY + 1));
    assertThat(got.get(2)).isEqualTo(line(1));
    assertThat(got.get(got.size() - 1)).isEqualTo(line(PodEvents.QUEUE_CAPACITY));

    feed.publish(line(flood + 2));
    assertThat(take(slow)).as("delivered again once there is room").isEqualTo(line(flood + 2));
  }

  @Test
  void aSubscriberThatThrowsKeepsGettingEvents() throws Exception {
    BlockingQueue<PodEvent> seen = new LinkedBlockingQueue<>();
    feed.subscribe(e -> {
      seen.add(e);
      throw new IllegalStateException("subscriber bug");
    });

    feed.publish(line(1));
    feed.publish(line(2));

    assertThat(take(seen)).isEqualTo(line(1));
    assertThat(take(seen)).isEqualTo(line(2));
  }

  @Test
  void aSubscriberSeesOnlyWhatIsPublishedAfterItSubscribed() throws Exception {
    BlockingQueue<PodEvent> first = new LinkedBlockingQueue<>();
    feed.subscribe(first::add);
    feed.publish(line(1));
    BlockingQueue<PodEvent> second = new LinkedBlockingQueue<>();
    feed.subscribe(second::add);
    feed.publish(line(2));

    assertThat(take(first)).isEqualTo(line(1));
    assertThat(take(first)).isEqualTo(line(2));
    assertThat(take(second)).isEqualTo(line(2));
  }

  @Test
  void closingTheFeedDropsWhatIsBufferedAndLaterSubscriptionsGetNothing() throws Exception {
    CountDownLatch inFirst = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    BlockingQueue<PodEvent> seen = new LinkedBlockingQueue<>();
    feed.subscribe(e -> {
      seen.add(e);
      inFirst.countDown();
      try {
        release.await();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
    });
    feed.publish(line(1));
    assertThat(inFirst.await(30, TimeUnit.SECONDS)).isTrue();
    feed.publish(line(2)); // buffered behind the event being delivered

    feed.close();
    feed.close();
    release.countDown();
    BlockingQueue<PodEvent> late = new LinkedBlockingQueue<>();
    feed.subscribe(late::add).close();
    feed.publish(line(3));

    assertThat(take(seen)).isEqualTo(line(1));
    assertThat(seen.poll(300, TimeUnit.MILLISECONDS)).isNull();
    assertThat(late).isEmpty();
  }
}
