// Sessions nearby, for the faces: the listener the window and `huddle --list` share, how a
// session heard is shown, and how `--join NAME` picks one. Joining one goes through its
// invite link (its address and the announced key), so the key is pinned exactly as when
// someone clicks a link: no trust question. See net/discovery_socket.h.
// Thread: the owner's thread; the listener runs its own worker.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "app/session/options.h"
#include "net/discovery_socket.h"

namespace huddle::session {

// The invite link that joins `s`: the address it announced from, its chat port, its key.
std::string nearbyInvite(const net::NearbySession& s);
// "alice" on laptop at 10.0.0.5:9998, password needed, key HUDL-...
std::string describeNearby(const net::NearbySession& s);
// Whether `--join TEXT` may name a session rather than a machine: not an invite link, not an
// IP address, no port, no dot, not "localhost".
bool looksLikeSessionName(const std::string& text);
// Picks the one session named `name` among `heard` (exact match); false with `error` naming
// the candidates when none or several are.
bool pickNearby(const std::vector<net::NearbySession>& heard, const std::string& name, net::NearbySession& out,
                std::string& error);

// Whether a host started with `options` announces itself: not with --no-announce, nor while
// HUDDLE_NO_ANNOUNCE is set.
bool announceWanted(const Options& options);

// `huddle --list`: listens for 2 announce intervals, prints what it heard newest first; 0, or
// 1 if it could not listen.
int runList();
// `--join NAME`: listens until the sessions have had time to announce, then rewrites
// options.joinAddress to the invite link of the one named NAME. A NAME no session has that
// resolves as a machine is left as it is. False with `error` otherwise; `note` says what was
// picked.
bool resolveNearbyJoin(Options& options, std::string& note, std::string& error);

}  // namespace huddle::session
