// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "policy/PolicyIndex.h"
#include "policy/PolicySet.h"
#include "store/WriteBatch.h"

#include <QMutex>
#include <functional>
#include <memory>

namespace greygate {

class Store;

// The policy side of the daemon: a PolicySet, its compiled PolicyIndex, and the glue to the
// Store. Every change goes through change() (or learn()/expire()), which puts its records
// into the caller's WriteBatch, the same batch as the triplet changes of the decisions that
// made them, so a decision that learns an auto allow entry commits both at once.
// Owned and written by one thread (the policy server's); index() may be called from any
// thread and hands out the current compiled index, which is immutable.
class PolicyState
{
public:
    static constexpr qsizetype kAutoAllowChunk = 10'000; // entries per document on restore

    PolicyState();

    // Start-up: the document the store holds, rebuilt through PolicyJson (so whatever the
    // store gives back is validated as an import would be) and restored with the store's
    // highest revision, so new changes number on after the last one ever committed.
    bool load(Store &store, QString *error);

    const PolicySet &set() const { return m_set; }
    // The hot path's index, for the owning thread.
    const PolicyIndex &currentIndex() const { return *m_index; }
    // A reference to the current index for any thread.
    std::shared_ptr<const PolicyIndex> index() const;

    // Runs one PolicySet change. On success its records (and audit entries) are appended to
    // batch and the index is rebuilt if anything but auto allow changed; on failure nothing
    // is appended and nothing changed (PolicySet's own guarantee).
    ChangeOutcome change(const std::function<ChangeOutcome(PolicySet &)> &change,
                         WriteBatch &batch);
    // Learned from traffic: not audited, never rebuilds the index (auto allow is apart).
    bool learn(const AutoAllowEntry &entry, WriteBatch &batch);
    // Expired auto allow entries, removed; returns how many.
    int expire(Seconds now, WriteBatch &batch);

    // The mapping (public for tests): PolicyChange -> DocumentRecord (+ AuditRecord).
    static DocumentKind kindOf(ChangeObject object);
    static DocumentRecord documentOf(const PolicyChange &change);
    static AuditRecord auditOf(const AuditEntry &entry);
    // Every stored document back into one PolicyDocument (policies, groups and internal in
    // one JSON document; auto allow in chunks, since a million entries exceed one document's
    // size limit). nullopt with *error naming the object at fault.
    static std::optional<PolicyDocument> documentFrom(const QList<DocumentRecord> &records,
                                                      QString *error);

private:
    void appendRecords(const QList<PolicyChange> &changes, WriteBatch &batch);
    void rebuild();

    PolicySet m_set;
    std::shared_ptr<const PolicyIndex> m_index;
    mutable QMutex m_indexLock; // guards m_index against index() from other threads
};

} // namespace greygate
