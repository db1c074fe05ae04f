// A connected loopback socket pair for net_test's connection tests. Thread: the test's.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "net/socket.h"

namespace huddle::net::test {

// The client's end (its receive buffer set to `clientReceiveBuffer` first, when not 0) and the
// listener's; null ends, and a test failure, if that failed.
struct LoopbackPair {
  std::unique_ptr<TcpSocket> client, server;
};

inline LoopbackPair loopbackPair(int clientReceiveBuffer = 0) {
  LoopbackPair pair;
  std::string error;
  TcpListener listener;
  if (!initNetwork(error) || !listener.open(0, 128, error)) {
    ADD_FAILURE() << error;
    return pair;
  }
  ConnectResult c = connectTcp("127.0.0.1", listener.port(), 2000);
  if (!c.socket) {
    ADD_FAILURE() << c.error;
    return pair;
  }
  if (clientReceiveBuffer > 0) c.socket->setReceiveBuffer(clientReceiveBuffer);
  pair.server = listener.accept(2000);
  if (!pair.server) ADD_FAILURE() << "nothing accepted";
  pair.client = std::move(c.socket);
  return pair;
}

}  // namespace huddle::net::test
