// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "control/DecisionRecorder.h"
#include "events/EventLog.h"
#include "greylist/Clock.h"
#include "greylist/GreylistEngine.h"
#include "policyd/GreylistPolicyHandler.h"
#include "store/redis/RedisConnection.h"
#include "store/redis/RedisDecider.h"
#include "store/redis/RedisStore.h"

#include <memory>
#include <vector>

namespace greygate::test {

// The parts greygated puts behind its decisions in Redis mode (Greygated's composition):
// the store, the engine, the connection, the decider, the handler deciding policies in memory
// and greylisting through Redis, the event log and the recorder that fills it. Auto-whitelisting
// is off so that every triplet's verdict depends on its own history only.
struct RedisDecisionStack
{
    SystemClock clock;
    std::unique_ptr<RedisStore> store;
    std::unique_ptr<GreylistEngine> engine;
    std::unique_ptr<RedisConnection> connection;
    std::unique_ptr<RedisDecider> decider;
    std::unique_ptr<GreylistPolicyHandler> handler;
    std::unique_ptr<EventLog> events;
    std::unique_ptr<DecisionRecorder> recorder;

    // The store opens on storeOptions; decisions go through a connection made from
    // connectionOptions (a dead port there is Redis away), whose failOpen is the failure mode.
    // The connection is started, not waited for. False with *error when the store cannot open.
    bool start(const RedisOptions &storeOptions, const RedisOptions &connectionOptions,
               QString *error);
    void reset();

    // The Attempt events recorded so far, oldest first.
    std::vector<const Event *> attempts() const;
};

} // namespace greygate::test
