// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReportsPage.h"

#include "charts/ReportChartRenderer.h"
#include "client/ProxyRegistry.h"
#include "report/CsvReportWriter.h"
#include "report/HtmlReportWriter.h"
#include "report/PdfReportWriter.h"
#include "report/ReportBuilder.h"

#include <QDateTimeEdit>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStyle>
#include <QTextBrowser>
#include <QTextDocument>
#include <QThread>
#include <QUrl>
#include <QVBoxLayout>
#include <memory>

namespace greygate {

namespace {

// Progress: fetching is most of the wait, then the charts, then the preview's layout.
constexpr int kFetchShare = 80;
constexpr int kChartsShare = 10;

} // namespace

ReportsPage::ReportsPage(ProxyRegistry &registry, QWidget *parent)
    : Page(parent)
    , m_registry(registry)
    , m_builder(new ReportBuilder(registry, this))
    , m_renderer(new ReportChartRenderer(this))
{
    const QDateTime now = QDateTime::currentDateTime();
    m_from = new QDateTimeEdit(QDateTime(now.date().addDays(-7), QTime(0, 0)), this);
    m_to = new QDateTimeEdit(now, this);
    for (QDateTimeEdit *edit : {m_from, m_to}) {
        edit->setCalendarPopup(true);
        edit->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm"));
    }
    auto *lastDay = new QPushButton(tr("Last 24 hours"), this);
    auto *lastWeek = new QPushButton(tr("Last 7 days"), this);
    connect(lastDay, &QPushButton::clicked, this, [this] {
        m_to->setDateTime(QDateTime::currentDateTime());
        m_from->setDateTime(m_to->dateTime().addDays(-1));
    });
    connect(lastWeek, &QPushButton::clicked, this, [this] {
        m_to->setDateTime(QDateTime::currentDateTime());
        m_from->setDateTime(m_to->dateTime().addDays(-7));
    });
    m_proxies = new QListWidget(this);
    m_proxies->setObjectName(QStringLiteral("reportProxies"));
    m_build = new QPushButton(tr("Build report"), this);
    m_build->setDefault(true);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 100);
    m_progress->setValue(0);
    m_status = new QLabel(tr("Choose a range and the proxies, then build the report."), this);
    m_status->setObjectName(QStringLiteral("reportStatus"));
    m_status->setWordWrap(true);

    auto *form = new QFormLayout;
    form->addRow(tr("From:"), m_from);
    form->addRow(tr("To:"), m_to);
    auto *quick = new QHBoxLayout;
    quick->addWidget(lastDay);
    quick->addWidget(lastWeek);
    form->addRow(QString(), quick);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_build);
    buttons->addWidget(m_cancel);
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->addLayout(form);
    leftLayout->addWidget(new QLabel(tr("Proxies:"), this));
    leftLayout->addWidget(m_proxies, 1);
    leftLayout->addLayout(buttons);
    leftLayout->addWidget(m_progress);
    leftLayout->addWidget(m_status);

    m_preview = new QTextBrowser(this);
    m_preview->setObjectName(QStringLiteral("reportPreview"));
    m_preview->setOpenLinks(false);
    auto *exports = new QHBoxLayout;
    exports->addStretch(1);
    const std::pair<Format, QString> formats[] = {{Format::Csv, tr("Export CSV…")},
                                                  {Format::Html, tr("Export HTML…")},
                                                  {Format::Pdf, tr("Export PDF…")}};
    for (const auto &[format, label] : formats) {
        auto *button = new QPushButton(label, this);
        button->setEnabled(false);
        connect(button, &QPushButton::clicked, this, [this, f = format] { askExport(f); });
        exports->addWidget(button);
        m_exports.append(button);
    }
    auto *right = new QWidget(this);
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->addWidget(m_preview, 1);
    rightLayout->addLayout(exports);

    auto *splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    connect(m_build, &QPushButton::clicked, this, [this] {
        build(m_from->dateTime().toSecsSinceEpoch(), m_to->dateTime().toSecsSinceEpoch());
    });
    connect(m_cancel, &QPushButton::clicked, this, &ReportsPage::cancel);
    connect(m_builder, &ReportBuilder::progress, this, [this](int percent, const QString &what) {
        // Several proxies answer in any order: the bar only moves forward.
        m_progress->setValue(qMax(m_progress->value(), percent * kFetchShare / 100));
        m_status->setText(what);
    });
    connect(m_builder, &ReportBuilder::finished, this, &ReportsPage::onData);
    connect(m_builder, &ReportBuilder::failed, this, [this](const QString &message) {
        setBusy(false, message);
        Q_EMIT reportFailed(message);
    });
    connect(m_renderer, &ReportChartRenderer::chartRendered, this, [this](int done, int count) {
        m_progress->setValue(kFetchShare + kChartsShare * done / qMax(1, count));
        m_status->setText(tr("Drawing the charts (%1 of %2)").arg(done).arg(count));
    });
    connect(m_renderer, &ReportChartRenderer::finished, this, &ReportsPage::onCharts);
    for (auto signal :
         {&ProxyRegistry::proxyAdded, &ProxyRegistry::proxyRemoved, &ProxyRegistry::proxyUpdated}) {
        connect(&registry, signal, this, &ReportsPage::rebuildProxyList);
    }
    rebuildProxyList();
    setBusy(false, m_status->text());
}

ReportsPage::~ReportsPage()
{
    // A worker may still lay out or write: it holds copies of the data, but its
    // results are delivered here, so it is waited for.
    for (QThread *worker : findChildren<QThread *>())
        worker->wait();
}

QIcon ReportsPage::icon() const
{
    return QIcon::fromTheme(QStringLiteral("x-office-document"),
                            style()->standardIcon(QStyle::SP_FileDialogContentsView));
}

void ReportsPage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    // The scope ticks its proxy (or all of them); the admin may tick others.
    for (int i = 0; i < m_proxies->count(); ++i) {
        QListWidgetItem *item = m_proxies->item(i);
        const bool on = proxyId.isEmpty() || item->data(Qt::UserRole).toString() == proxyId;
        item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
    }
}

void ReportsPage::rebuildProxyList()
{
    QStringList unticked;
    for (int i = 0; i < m_proxies->count(); ++i) {
        if (m_proxies->item(i)->checkState() == Qt::Unchecked)
            unticked.append(m_proxies->item(i)->data(Qt::UserRole).toString());
    }
    m_proxies->clear();
    for (const QString &id : m_registry.ids()) {
        const ProxyEndpoint *e = m_registry.endpoint(id);
        auto *item = new QListWidgetItem(e && !e->name.isEmpty() ? e->name : id, m_proxies);
        item->setData(Qt::UserRole, id);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(unticked.contains(id) ? Qt::Unchecked : Qt::Checked);
    }
}

void ReportsPage::build(qint64 from, qint64 to, const QStringList &proxyIds)
{
    QStringList ids = proxyIds;
    if (ids.isEmpty()) {
        for (int i = 0; i < m_proxies->count(); ++i) {
            if (m_proxies->item(i)->checkState() == Qt::Checked)
                ids.append(m_proxies->item(i)->data(Qt::UserRole).toString());
        }
        if (ids.isEmpty()) {
            m_status->setText(tr("Tick at least one proxy to report on."));
            return;
        }
    }
    // The fields show the range reported, however it was chosen.
    m_from->setDateTime(QDateTime::fromSecsSinceEpoch(from));
    m_to->setDateTime(QDateTime::fromSecsSinceEpoch(to));
    ++m_generation;
    m_ready = false;
    m_renderer->cancel();
    setBusy(true, tr("Asking the proxies…"));
    m_progress->setValue(0);
    m_builder->start(from, to, ids);
}

void ReportsPage::cancel()
{
    ++m_generation;
    m_builder->cancel();
    m_renderer->cancel();
    setBusy(false, tr("Cancelled."));
    m_progress->setValue(0);
}

bool ReportsPage::isBusy() const
{
    return m_busy;
}

void ReportsPage::setBusy(bool busy, const QString &what)
{
    m_busy = busy;
    m_build->setEnabled(!busy);
    m_cancel->setEnabled(busy);
    for (QPushButton *button : std::as_const(m_exports))
        button->setEnabled(!busy && m_ready);
    if (!what.isEmpty())
        m_status->setText(what);
}

void ReportsPage::onData(const ReportData &data)
{
    m_data = data;
    m_renderer->start(data);
}

// The preview's document is laid out on a worker thread (thousands of table rows take
// seconds), then handed to the GUI thread.
void ReportsPage::onCharts(const QList<ReportChart> &charts)
{
    m_charts = charts;
    m_status->setText(tr("Laying out the preview…"));
    auto result = std::make_shared<QTextDocument *>(nullptr);
    QThread *gui = thread();
    const ReportData data = m_data;
    QThread *worker = QThread::create([result, data, charts, gui] {
        auto *document = new QTextDocument;
        for (int i = 0; i < charts.size(); ++i) {
            document->addResource(QTextDocument::ImageResource,
                                  QUrl(HtmlReportWriter::resourceName(i)), charts.at(i).image);
        }
        document->setHtml(
            HtmlReportWriter::html(data, charts, HtmlReportWriter::Images::Resources));
        document->moveToThread(gui);
        *result = document;
    });
    worker->setParent(this);
    connect(worker, &QThread::finished, this, [this, worker, result, generation = m_generation] {
        worker->deleteLater();
        QTextDocument *document = *result;
        if (generation != m_generation) {
            delete document;
            return;
        }
        document->setParent(m_preview);
        // Whether the old document is ours must be read before setDocument(): the text
        // control deletes a document it owns when it is replaced.
        QTextDocument *old = m_preview->document();
        const bool ours = old && old->parent() == m_preview;
        m_preview->setDocument(document);
        if (ours)
            old->deleteLater();
        m_ready = true;
        m_progress->setValue(100);
        const int missing = int(m_data.proxies.size()) - m_data.answered();
        setBusy(false, missing == 0 ? tr("Report ready: export it as CSV, HTML or PDF.")
                                    : tr("Report ready, without %n proxy(s) that did not "
                                         "answer (see the summary).",
                                         nullptr, missing));
        Q_EMIT reportReady();
    });
    worker->start();
}

void ReportsPage::askExport(Format format)
{
    const QString suffix = format == Format::Csv    ? QStringLiteral("csv")
                           : format == Format::Html ? QStringLiteral("html")
                                                    : QStringLiteral("pdf");
    const QString name =
        QStringLiteral("greygate-report-%1.%2")
            .arg(QDateTime::fromSecsSinceEpoch(m_data.to).toString(QStringLiteral("yyyyMMdd")),
                 suffix);
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export the report"), QDir::home().filePath(name),
                                     tr("%1 files (*.%2)").arg(suffix.toUpper(), suffix));
    if (!path.isEmpty())
        exportTo(format, path);
}

void ReportsPage::exportTo(Format format, const QString &path)
{
    if (!m_ready) {
        Q_EMIT exportFinished(false, path, tr("Build the report first."));
        return;
    }
    auto error = std::make_shared<QString>();
    auto ok = std::make_shared<bool>(false);
    const ReportData data = m_data;
    const QList<ReportChart> charts = m_charts;
    QThread *worker = QThread::create([format, path, data, charts, error, ok] {
        switch (format) {
        case Format::Csv:
            *ok = CsvReportWriter::write(data, path, error.get());
            break;
        case Format::Html:
            *ok = HtmlReportWriter::write(data, charts, path, error.get());
            break;
        case Format::Pdf:
            *ok = PdfReportWriter::write(data, charts, path, error.get());
            break;
        }
    });
    worker->setParent(this);
    ++m_exportsRunning;
    m_status->setText(tr("Writing %1…").arg(QDir::toNativeSeparators(path)));
    connect(worker, &QThread::finished, this, [this, worker, path, error, ok] {
        worker->deleteLater();
        --m_exportsRunning;
        m_status->setText(*ok ? tr("Saved %1.").arg(QDir::toNativeSeparators(path))
                              : *error + u' ' + tr("Choose another folder and export again."));
        if (!*ok && isVisible())
            QMessageBox::warning(this, tr("Export the report"), *error);
        Q_EMIT exportFinished(*ok, path, *error);
    });
    worker->start();
}

} // namespace greygate
