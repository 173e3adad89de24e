// SPDX-License-Identifier: GPL-3.0-or-later
#include "TripletSnapshot.h"

#include "SnapshotFile.h"
#include "StoreLog.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <malloc.h>

namespace greygate {

namespace {

// What an admin can do about a snapshot that cannot be read.
void addHint(QString *error)
{
    *error += QStringLiteral("; restore the file from a backup, or move it away to start with "
                             "an empty greylist");
}

// After a failed compaction (disk full, I/O error) the next try waits this long; the
// journal keeps everything meanwhile.
constexpr std::chrono::seconds kRetryDelay(5);

} // namespace

bool TripletSnapshot::Delta::overrides(quint8 type, QByteArrayView key) const
{
    return type == SnapshotFile::kTriplet
               ? triplets.find(key) != KeyedSlotTable<TripletChange>::npos
               : clients.find(key) != KeyedSlotTable<ClientChange>::npos;
}

void TripletSnapshot::Delta::putTriplet(QByteArrayView key, const TripletChange &change)
{
    if (key.size() > KeyedSlotTable<TripletChange>::kMaxKeyBytes)
        return; // never produced by the engine; nothing could load it
    const quint32 slot = triplets.find(key);
    if (slot == KeyedSlotTable<TripletChange>::npos)
        triplets.insert(key, change);
    else
        triplets.value(slot) = change;
}

void TripletSnapshot::Delta::putClient(QByteArrayView key, const ClientChange &change)
{
    if (key.size() > KeyedSlotTable<ClientChange>::kMaxKeyBytes)
        return;
    const quint32 slot = clients.find(key);
    if (slot == KeyedSlotTable<ClientChange>::npos)
        clients.insert(key, change);
    else
        clients.value(slot) = change;
}

TripletSnapshot::TripletSnapshot(QString dbdir, qsizetype minChanges, qsizetype maxChanges)
    : m_dbdir(std::move(dbdir))
    , m_minChanges(qMax<qsizetype>(1, minChanges))
    , m_maxChanges(qMax(m_minChanges, maxChanges))
{}

TripletSnapshot::~TripletSnapshot()
{
    close();
}

QString TripletSnapshot::path() const
{
    return m_dbdir + QStringLiteral("/triplets.snap");
}

bool TripletSnapshot::open(QString *error)
{
    close();
    const std::lock_guard l(m_mutex);
    m_active->clear();
    m_frozen->clear();
    m_exists = QFileInfo::exists(path());
    m_sequence = 0;
    m_records = 0;
    if (m_exists) {
        SnapshotFile::Reader reader(path());
        if (!reader.open(error)) {
            addHint(error);
            return false;
        }
        m_sequence = reader.sequence();
        // A guess until the first compaction counts them: sizes the first threshold.
        m_records = quint64(QFileInfo(path()).size() / 64);
    }
    m_stop = false;
    m_compacting = false;
    m_target = 0;
    m_compactor = std::thread([this] { compactorLoop(); });
    return true;
}

void TripletSnapshot::close()
{
    if (!m_compactor.joinable())
        return;
    {
        const std::lock_guard l(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_compactor.join();
    const std::lock_guard l(m_mutex);
    unfreeze(); // a compaction asked for but not started
}

bool TripletSnapshot::exists() const
{
    const std::lock_guard l(m_mutex);
    return m_exists;
}

void TripletSnapshot::add(const WriteBatch &batch, quint64 sequence)
{
    const std::lock_guard l(m_mutex);
    m_added = sequence;
    for (const TripletRecord &t : batch.upsertTriplets)
        m_active->putTriplet(t.key.joined(), {t.state, false});
    for (const QByteArray &joined : batch.removeTriplets)
        m_active->putTriplet(joined, {{}, true});
    for (const ClientRecord &c : batch.upsertClients)
        m_active->putClient(c.client, {c.lastSeen, c.passes, false});
    for (const QByteArray &client : batch.removeClients)
        m_active->putClient(client, {0, 0, true});
}

qsizetype TripletSnapshot::threshold() const
{
    return qBound(m_minChanges, qsizetype(m_records / 4), m_maxChanges);
}

void TripletSnapshot::setOnWritten(std::function<void(quint64)> onWritten)
{
    const std::lock_guard l(m_mutex);
    m_onWritten = std::move(onWritten);
}

bool TripletSnapshot::startIfDue()
{
    if (m_compacting || m_stop || m_active->size() < threshold() ||
        std::chrono::steady_clock::now() < m_retryAt)
        return false;
    std::swap(m_active, m_frozen); // the frozen delta is empty while none runs
    m_compacting = true;
    m_target = m_added;
    return true;
}

void TripletSnapshot::compactIfDue()
{
    bool started;
    {
        const std::lock_guard l(m_mutex);
        started = startIfDue();
    }
    if (started)
        m_wake.notify_one();
}

bool TripletSnapshot::hasChanges() const
{
    const std::lock_guard l(m_mutex);
    return m_active->size() > 0 || m_frozen->size() > 0 || !m_exists;
}

void TripletSnapshot::compactorLoop()
{
    std::unique_lock l(m_mutex);
    for (;;) {
        m_wake.wait(l, [&] { return m_stop || m_target != 0; });
        if (m_stop)
            break;
        const quint64 target = m_target;
        l.unlock();
        QString error;
        const bool ok = write(target, {}, &error);
        l.lock();
        finish(ok, target, error);
        const auto onWritten = m_onWritten;
        l.unlock();
        if (ok && onWritten)
            onWritten(target);
        // The frozen delta's key chunks were freed by several threads' arenas: give the
        // pages back, or resident memory keeps every delta's high-water mark.
        ::malloc_trim(0);
        l.lock();
        startIfDue(); // what piled up meanwhile may already be enough for the next one
    }
}

// m_frozen is this compaction's alone: add() fills m_active, load() only reads.
bool TripletSnapshot::write(quint64 sequence, const BaseReader &base, QString *error)
{
    QElapsedTimer timer;
    timer.start();
    const Delta &delta = *m_frozen;
    SnapshotFile::Writer writer(path());
    if (!writer.open(sequence, error))
        return false;
    bool ok = true;
    if (base) {
        const auto onTriplet = [&](TripletRecord &&t) {
            if (ok && !delta.overrides(SnapshotFile::kTriplet, t.key.joined()))
                ok = writer.append(t, error);
        };
        const auto onClient = [&](ClientRecord &&c) {
            if (ok && !delta.overrides(SnapshotFile::kClient, c.client))
                ok = writer.append(c, error);
        };
        if (!base(onTriplet, onClient, error) || !ok)
            return false;
    } else if (QFileInfo::exists(path())) {
        SnapshotFile::Reader reader(path());
        const auto copy = [&](const SnapshotFile::RawRecord &r) {
            return delta.overrides(r.type, r.key) || writer.appendRaw(r, error);
        };
        if (!reader.open(error) || !reader.read(copy, error))
            return false;
    }
    for (quint32 s = 0; s < delta.triplets.slotCount(); ++s) {
        if (delta.triplets.isLive(s) && !delta.triplets.value(s).removed &&
            !writer.appendTriplet(delta.triplets.key(s), delta.triplets.value(s).state, error))
            return false;
    }
    for (quint32 s = 0; s < delta.clients.slotCount(); ++s) {
        if (!delta.clients.isLive(s) || delta.clients.value(s).removed)
            continue;
        const ClientChange &c = delta.clients.value(s);
        if (!writer.append(ClientRecord{delta.clients.key(s).toByteArray(), c.passes, c.lastSeen},
                           error))
            return false;
    }
    const quint64 records = writer.triplets() + writer.clients();
    if (!writer.commit(error))
        return false;
    qCInfo(lcStore,
           "snapshot at sequence %llu: %llu triplets, %llu clients (%lld changes) in %lld ms",
           sequence, writer.triplets(), writer.clients(), qint64(delta.size()), timer.elapsed());
    // Counted here, under no lock: finish() publishes it with the sequence.
    m_pendingRecords = records;
    return true;
}

void TripletSnapshot::finish(bool ok, quint64 sequence, const QString &error)
{
    m_compacting = false;
    m_target = 0;
    if (ok) {
        m_frozen->clear();
        m_exists = true;
        m_records = m_pendingRecords;
        m_sequence = sequence;
        ++m_compactions;
        if (!m_lastError.isEmpty())
            qCInfo(lcStore, "snapshot written again after a failure");
        m_lastError.clear();
    } else {
        if (error != m_lastError)
            qCWarning(lcStore,
                      "cannot write the triplet snapshot (will retry; the journal "
                      "keeps every change): %s",
                      qPrintable(error));
        m_lastError = error;
        unfreeze();
        m_retryAt = std::chrono::steady_clock::now() + kRetryDelay;
    }
    m_idle.notify_all();
}

// Gives a frozen delta that was not written back to the active one, under its newer
// changes.
void TripletSnapshot::unfreeze()
{
    Delta &frozen = *m_frozen;
    for (quint32 s = 0; s < frozen.triplets.slotCount(); ++s) {
        if (frozen.triplets.isLive(s) &&
            !m_active->overrides(SnapshotFile::kTriplet, frozen.triplets.key(s)))
            m_active->triplets.insert(frozen.triplets.key(s), frozen.triplets.value(s));
    }
    for (quint32 s = 0; s < frozen.clients.slotCount(); ++s) {
        if (frozen.clients.isLive(s) &&
            !m_active->overrides(SnapshotFile::kClient, frozen.clients.key(s)))
            m_active->clients.insert(frozen.clients.key(s), frozen.clients.value(s));
    }
    frozen.clear();
}

bool TripletSnapshot::compactNow(quint64 sequence, const BaseReader &base, QString *error)
{
    std::unique_lock l(m_mutex);
    m_idle.wait(l, [&] { return !m_compacting; });
    unfreeze();
    std::swap(m_active, m_frozen);
    m_compacting = true;
    l.unlock();
    const bool ok = write(sequence, base, error);
    l.lock();
    finish(ok, sequence, ok ? QString() : *error);
    return ok;
}

bool TripletSnapshot::load(const TripletSink &onTriplet, const ClientSink &onClient, QString *error)
{
    // Held throughout: the deltas stay as they are, and a compaction finishing meanwhile
    // waits (its renamed file would only repeat what the frozen delta says).
    const std::lock_guard l(m_mutex);
    const Delta &active = *m_active;
    const Delta &frozen = *m_frozen;
    const auto newer = [&](quint8 type, QByteArrayView key) {
        return active.overrides(type, key) || frozen.overrides(type, key);
    };
    if (m_exists) {
        SnapshotFile::Reader reader(path());
        bool bad = false;
        const auto onRecord = [&](const SnapshotFile::RawRecord &r) {
            if (newer(r.type, r.key))
                return true;
            if (r.type == SnapshotFile::kTriplet) {
                TripletRecord t;
                bad = !SnapshotFile::decodeTriplet(r, &t);
                if (!bad)
                    onTriplet(std::move(t));
            } else {
                ClientRecord c;
                bad = !SnapshotFile::decodeClient(r, &c);
                if (!bad)
                    onClient(std::move(c));
            }
            return !bad;
        };
        if (!reader.open(error) || !reader.read(onRecord, error)) {
            if (bad)
                *error = QStringLiteral("snapshot %1 holds a malformed triplet key").arg(path());
            addHint(error);
            return false;
        }
    }
    for (const Delta *d : {&frozen, &active}) {
        for (quint32 s = 0; s < d->triplets.slotCount(); ++s) {
            if (!d->triplets.isLive(s) || d->triplets.value(s).removed ||
                (d == &frozen && active.overrides(SnapshotFile::kTriplet, d->triplets.key(s))))
                continue;
            if (std::optional<TripletKey> key = TripletKey::split(d->triplets.key(s).toByteArray()))
                onTriplet(TripletRecord{std::move(*key), d->triplets.value(s).state});
        }
        for (quint32 s = 0; s < d->clients.slotCount(); ++s) {
            if (!d->clients.isLive(s) || d->clients.value(s).removed ||
                (d == &frozen && active.overrides(SnapshotFile::kClient, d->clients.key(s))))
                continue;
            const ClientChange &c = d->clients.value(s);
            onClient(ClientRecord{d->clients.key(s).toByteArray(), c.passes, c.lastSeen});
        }
    }
    return true;
}

bool TripletSnapshot::verify(QString *error)
{
    const std::lock_guard l(m_mutex);
    if (!m_exists)
        return true;
    SnapshotFile::Reader reader(path());
    return reader.open(error) &&
           reader.read([](const SnapshotFile::RawRecord &) { return true; }, error);
}

TripletSnapshot::Stats TripletSnapshot::stats() const
{
    const std::lock_guard l(m_mutex);
    return {m_sequence.load(), m_active->size() + m_frozen->size(), m_compactions, m_records};
}

} // namespace greygate
