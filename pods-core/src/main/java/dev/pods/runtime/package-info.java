/**
 * The implementation of {@link dev.pods.PodRuntime}: not API; reach it through {@link dev.pods.PodRuntime#builder()}.
 * Classes here are public only so that the API package can build them, and may change without notice.
 *
 * <p>Where things are: {@code DefaultPodRuntime} allocates addresses and keeps the state files;
 * {@code DefaultDeployment} builds and tears down instances and hands each metadata service its view;
 * {@code Planner} (pure) turns a new pod and what each instance runs into migration steps, and {@code Migrator}
 * applies them under the deployment's change lock (also the lock of {@code destroy}): removals, creations, live
 * updates (a new unit in the instance's view: its state hash changes, the agent fetches the new spec and runs the
 * reload blocks), then recreations one at a time. A generation counter, bumped when a migration starts and ends,
 * makes plans made against an older state refuse to apply.
 */
@NullMarked
package dev.pods.runtime;

import org.jspecify.annotations.NullMarked;
