// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"
#include "report/ReportChart.h"
#include "report/ReportData.h"

class QDateTimeEdit;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTextBrowser;
class QTextDocument;

namespace greygate {

class ProxyRegistry;
class ReportBuilder;
class ReportChartRenderer;

// Reports (DESIGN.md §6): a date range and the proxies chosen -> the figures, tables and
// charts, previewed here and exported as CSV, HTML or PDF. Nothing blocks the GUI thread:
// the figures are fetched asynchronously (ReportBuilder), the charts drawn one per turn of
// the event loop, and the preview's document and the exported files laid out and written on
// worker threads; a progress bar tells how far it is, and Cancel stops it.
class ReportsPage : public Page
{
    Q_OBJECT

public:
    enum class Format
    {
        Csv,
        Html,
        Pdf,
    };

    explicit ReportsPage(ProxyRegistry &registry, QWidget *parent = nullptr);
    ~ReportsPage() override;

    QString title() const override { return tr("Reports"); }
    QIcon icon() const override;
    void setScope(const QString &proxyId) override;

    // Builds a report over [from, to) of these proxies (empty: those ticked in the list).
    void build(qint64 from, qint64 to, const QStringList &proxyIds = {});
    void cancel();
    bool isBusy() const;
    bool hasReport() const { return m_ready; }
    const ReportData &report() const { return m_data; }
    const QList<ReportChart> &charts() const { return m_charts; }
    // Writes the report on a worker thread; exportFinished() tells the outcome.
    void exportTo(Format format, const QString &path);

Q_SIGNALS:
    void reportReady();
    void reportFailed(const QString &message);
    void exportFinished(bool ok, const QString &path, const QString &error);

private:
    void rebuildProxyList();
    void onData(const ReportData &data);
    void onCharts(const QList<ReportChart> &charts);
    void setBusy(bool busy, const QString &what = {});
    void askExport(Format format);

    ProxyRegistry &m_registry;
    ReportBuilder *m_builder = nullptr;
    ReportChartRenderer *m_renderer = nullptr;
    QDateTimeEdit *m_from = nullptr;
    QDateTimeEdit *m_to = nullptr;
    QListWidget *m_proxies = nullptr;
    QPushButton *m_build = nullptr;
    QPushButton *m_cancel = nullptr;
    QList<QPushButton *> m_exports;
    QProgressBar *m_progress = nullptr;
    QLabel *m_status = nullptr;
    QTextBrowser *m_preview = nullptr;
    ReportData m_data;
    QList<ReportChart> m_charts;
    bool m_ready = false;
    bool m_busy = false;
    int m_exportsRunning = 0;
    quint64 m_generation = 0;
};

} // namespace greygate
