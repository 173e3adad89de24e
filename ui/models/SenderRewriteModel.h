// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QJsonArray>
#include <QJsonObject>
#include <QStringList>
#include <QTimer>

namespace greygate {

class ProxyRegistry;

// The sender rewriting table of one proxy, being edited (docs/console.md, "Sender
// rewriting"; docs/rewriting.md): the rows are the rules in order. Every edit sends the
// edited table and the sample addresses to rewriting.test (debounced): the proxy compiles
// the table exactly as rewriting.set would, so problem() is the proxy's own refusal and the
// samples show what each address would become and which rule fired. save() sends the table
// with the version it was loaded at: another admin's save in between is reported, never
// overwritten. The table is re-read when the proxy reports a change, unless it is being
// edited (then the change is announced and Save will be refused).
class SenderRewriteModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Enabled,
        Id,
        Kind,
        Pattern, // the regex, or a plusTag rule's separators
        Replacement,
        Scope,
        Description,
        ColumnCount
    };
    struct SampleResult
    {
        QString address;
        QString key;
        QStringList applied;
        QStringList skipped;
    };
    static constexpr int kTestDelayMs = 200;
    static constexpr qsizetype kMaxSamples = 100; // the proxy's rewriting.test bound

    explicit SenderRewriteModel(ProxyRegistry &registry, QObject *parent = nullptr);

    QString proxyId() const { return m_proxyId; }
    void setProxyId(const QString &proxyId);
    void reload();

    void setSamples(const QStringList &samples);
    const QList<SampleResult> &results() const { return m_results; }

    bool loaded() const { return m_version >= 0; }
    bool isDirty() const;
    bool isTesting() const { return m_retest.isActive() || m_pendingTest != 0; }
    bool canSave() const;
    QString problem() const { return m_problem; } // why the edited table is refused
    QString message() const { return m_message; } // what happened last (saved, conflict...)
    qint64 version() const { return m_version; }
    bool active() const { return m_active; }
    QJsonArray rules() const;

    // Edits. addRule() takes a kind name (srs, batv, plusTag, verp, regex) and returns the row.
    int addRule(const QString &kind);
    void removeRule(int row);
    void moveRule(int row, int delta);
    void revert() override;
    void save();

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void stateChanged(); // dirty, problem, message, version or testing changed
    void resultsChanged();

private:
    void setRules(const QJsonArray &rules);
    void edited();
    void test();
    void setMessage(const QString &message);
    static QString fieldOf(int column);

    ProxyRegistry &m_registry;
    QString m_proxyId;
    QJsonArray m_saved;
    QList<QJsonObject> m_rules;
    qint64 m_version = -1;
    bool m_active = true;
    QStringList m_samples;
    QList<SampleResult> m_results;
    QString m_problem;
    QString m_message;
    QTimer m_retest;
    QTimer m_reload;
    quint64 m_testSerial = 0;
    quint64 m_pendingTest = 0; // the serial of the test awaited, 0: none
    bool m_saving = false;
};

} // namespace greygate
