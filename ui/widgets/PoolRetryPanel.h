// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonArray>
#include <QTimer>
#include <QWidget>

class QLabel;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace greygate {

class ProxyRegistry;

// Pool retries of one proxy and their one-click bypasses (docs/spf.md, docs/api.md "Pool
// retries"): each retry the detector reported ("outlook.com retrying from 6 IPs in 3
// networks") with a "Bypass for N h" button, and below the active pool bypasses with their
// ranges, expiry, time left and Remove. Follows the proxy's poolRetry events; the Live and
// Dashboard pages can embed it, PoolRetryPage shows it on its own.
class PoolRetryPanel : public QWidget
{
    Q_OBJECT

public:
    explicit PoolRetryPanel(ProxyRegistry &registry, QWidget *parent = nullptr);

    void setProxyId(const QString &proxyId);
    QString proxyId() const { return m_proxyId; }

    QTableWidget *retriesTable() const { return m_retries; }
    QTableWidget *bypassesTable() const { return m_bypasses; }
    QSpinBox *hoursBox() const { return m_hours; }
    // The row's "Bypass for N h" (retries) or "Remove" (bypasses) button; null past the end.
    QPushButton *bypassButton(int row) const;
    QPushButton *removeButton(int row) const;
    QString message() const;

public Q_SLOTS:
    void reload();
    void bypass(const QString &domain);
    void remove(qint64 id);

Q_SIGNALS:
    void loaded(); // both lists answered
    void changeDone(const QString &message);
    void changeFailed(const QString &message);

private:
    void showRetries(const QJsonArray &retries);
    void showBypasses(const QJsonArray &bypasses, qint64 serverTime);
    void tick(); // the bypasses' time left
    void showMessage(const QString &text, bool error);
    QString buttonText() const;

    ProxyRegistry &m_registry;
    QString m_proxyId;
    QSpinBox *m_hours;
    QTableWidget *m_retries;
    QTableWidget *m_bypasses;
    QLabel *m_message;
    QTimer m_reloadTimer;
    QTimer m_tickTimer;
    qint64 m_clockOffset = 0; // the proxy's clock minus ours (seconds)
    quint64 m_generation = 0;
    int m_pendingLists = 0;
};

} // namespace greygate
