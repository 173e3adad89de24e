// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisDecisionStack.h"

namespace greygate::test {

bool RedisDecisionStack::start(const RedisOptions &storeOptions,
                               const RedisOptions &connectionOptions, QString *error)
{
    GreylistConfig config;
    config.autoWhitelistClients = 0;
    store = std::make_unique<RedisStore>(storeOptions, config);
    if (!store->open(error))
        return false;
    engine = std::make_unique<GreylistEngine>(config, clock);
    connection = std::make_unique<RedisConnection>(connectionOptions);
    connection->start();
    store->attach(connection.get());
    decider = std::make_unique<RedisDecider>(*connection, config, connectionOptions.failOpen);
    GreylistPolicyOptions options;
    options.greylistText = "Greylisted for %s seconds";
    handler = std::make_unique<GreylistPolicyHandler>(*engine, *store, clock, options);
    if (!handler->policies().load(*store, error))
        return false;
    handler->setAsyncDecider(decider.get());
    events = std::make_unique<EventLog>();
    recorder = std::make_unique<DecisionRecorder>(*handler, *events, clock);
    return true;
}

void RedisDecisionStack::reset()
{
    // Users first: each part holds references to the ones made before it.
    recorder.reset();
    events.reset();
    handler.reset();
    decider.reset();
    connection.reset();
    store.reset();
    engine.reset();
}

std::vector<const Event *> RedisDecisionStack::attempts() const
{
    std::vector<const Event *> all, out;
    events->since(0, 1000, &all);
    for (const Event *e : all)
        if (e->type == EventType::Attempt)
            out.push_back(e);
    return out;
}

} // namespace greygate::test
