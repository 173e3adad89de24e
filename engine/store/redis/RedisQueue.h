// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/GreylistConfig.h"
#include "greylist/TripletQuery.h"

#include <QObject>
#include <functional>
#include <memory>
#include <optional>

namespace greygate {

class RedisConnection;

// The greylist queue of the shared Redis store, for the control API (queue.list, release,
// delete): asynchronous through a RedisConnection, never blocking the event loop.
// A listing walks the triplets in bounded steps: SCAN MATCH gg:{*}:t:* COUNT 1000 (ZSCAN of
// gg:due when only deferred ones are asked: every open retry window has its deadline there),
// filters on the key, then HMGETs the matching keys pipelined behind the step. Only the
// best offset + limit entries of the sort order are kept, so memory is bounded by the page
// depth (kMaxWindow), not by the greylist's size; the total counts every match. Times come
// from Redis TIME, as the decisions' do. Release and delete are Lua scripts on the triplet's
// key (one slot), atomic against the decisions of every proxy.
class RedisQueue final : public QObject
{
    Q_OBJECT

public:
    enum class Change : quint8
    {
        Done,
        NotFound,
        AlreadyPassed,
    };
    using ListDone = std::function<void(std::optional<TripletPage> page, const QString &error)>;
    using ChangeDone = std::function<void(std::optional<Change> result, const QString &error)>;

    // offset + limit of a listing at most this (deeper pages: narrow the filter).
    static constexpr qsizetype kMaxWindow = 100'000;
    // Listings at the same time; more are refused at once (each one walks the keyspace).
    static constexpr int kMaxListings = 4;
    // A listing that has not finished in this time answers an error (the admin narrows it).
    static constexpr int kListTimeoutMs = 10'000;
    static constexpr int kScanCount = 1000;

    RedisQueue(RedisConnection &connection, const GreylistConfig &config,
               QObject *parent = nullptr);
    ~RedisQueue() override;

    // done is called exactly once, on this thread, possibly before the call returns.
    void list(const TripletQuery &query, ListDone done);
    void release(const TripletKey &key, ChangeDone done);
    void remove(const TripletKey &key, ChangeDone done);

    // The retry window's end (deferred) or the lifetime's (passed), as GreylistEngine says.
    Seconds expiresAt(const TripletState &state) const;
    int listingsInFlight() const { return m_listings; }

private:
    struct Listing;
    void step(const std::shared_ptr<Listing> &l);
    void collect(const std::shared_ptr<Listing> &l, const QByteArray &redisKey);
    void finish(const std::shared_ptr<Listing> &l, const QString &error);
    // The query's sort order (GreylistEngine::query()'s), and keeping only the best window.
    bool before(const TripletQuery &q, const TripletRecord &a, const TripletRecord &b) const;
    void trim(Listing &l) const;
    static void abandoned(Listing &l);
    void change(const QByteArray &script, const TripletKey &key, const QByteArrayList &args,
                ChangeDone done);

    RedisConnection &m_connection;
    GreylistConfig m_config;
    int m_listings = 0;
    // Callbacks that come back after this queue is gone (shutdown) do nothing.
    std::shared_ptr<RedisQueue *> m_self;
};

} // namespace greygate
