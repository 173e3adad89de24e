// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "KeyedTableModel.h"
#include "client/ProxyRegistry.h"

#include <QTimer>

namespace greygate {

struct AutoAllowRow
{
    QString external;
    QString internal;  // "*": every internal user
    QString createdAt; // ISO 8601, as the proxy gives it
    QString expiresAt;
    QString key() const { return external + u'\n' + internal; }
    bool operator==(const AutoAllowRow &) const = default;
};

// One proxy's Auto Allow table (`autoallow.list`), page by page (canFetchMore/fetchMore):
// the table may hold a million pairs. A filter (substring of either address) is the
// proxy's. Changes reported by the proxy re-read the loaded pages (up to kMaxRefreshRows)
// and apply the difference without a reset; a removal is applied at once.
class AutoAllowModel : public KeyedTableModel<AutoAllowRow>
{
    Q_OBJECT

public:
    enum Column
    {
        External,
        Internal,
        CreatedAt,
        ExpiresAt,
        ColumnCount
    };

    static constexpr int kDefaultPageSize = 200;
    static constexpr int kMaxRefreshRows = 10'000;

    explicit AutoAllowModel(ProxyRegistry &registry, QObject *parent = nullptr);

    void setProxyId(const QString &proxyId);
    QString proxyId() const { return m_proxyId; }
    void setFilter(const QString &text);
    QString filter() const { return m_filter; }
    void setPageSize(int rows); // 1..1000
    void reload();
    qint64 total() const { return m_total; }
    bool isLoading() const { return m_fetching; }
    QString lastError() const { return m_lastError; }

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

    // expiresAt: seconds since the epoch.
    void add(const QString &external, const QString &internal, qint64 expiresAt);
    void remove(int row);

Q_SIGNALS:
    void totalChanged(qint64 total);
    void loadFailed(const QString &message);
    void changeDone(const QString &action, const QString &external, const QString &internal);
    void changeFailed(const QString &action, const QString &external, const QString &internal,
                      const QString &message);

private:
    using Page = std::function<void(bool ok, const QList<AutoAllowRow> &rows, qint64 total)>;
    void requestPage(qint64 offset, int limit, Page then);
    void refreshLoaded();
    void refreshFrom(qint64 offset, QList<AutoAllowRow> sofar, qint64 upTo, quint64 generation);
    void refreshDone();
    void setTotal(qint64 total);
    void send(const QString &action, const QJsonObject &params, const QString &external,
              const QString &internal);

    ProxyRegistry &m_registry;
    QString m_proxyId;
    QString m_filter;
    int m_pageSize = kDefaultPageSize;
    qint64 m_total = 0;
    // The proxy's offset of the next page: set before rows are inserted, so a view asking
    // for more while they go in (rowsAboutToBeInserted) asks for the right page.
    qint64 m_nextOffset = 0;
    bool m_loaded = false;
    bool m_fetching = false;
    // A refresh re-reads the loaded pages: no page is appended meanwhile (it would be cut
    // off by the refresh's shorter list); a fetchMore() asked for then runs after it.
    bool m_refreshing = false;
    bool m_fetchWanted = false;
    quint64 m_generation = 0;
    QString m_lastError;
    QTimer m_refreshTimer;
};

} // namespace greygate
