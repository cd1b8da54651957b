/** Implementation details of pods-etcd's cluster: the JSON of the records kept in etcd. Not an API. */
@NullMarked
package dev.pods.etcd.internal;

import org.jspecify.annotations.NullMarked;
