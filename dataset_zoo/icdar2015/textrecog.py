# ICDAR 2015 Incidental Scene Text, Task 4.3 word recognition (Karatzas et al., 2015).
# Test = all 2077 official test crops with the official Challenge4_Test_Task3_GT.txt
# (UTF-8 with BOM, `word_1.png, "JOINT"` lines); train = the 4468 official training
# crops with the gt.txt inside their zip. No filtering (the 1811 subset is MMOCR's
# textrecog_test_1811.json, md5 8d218ef1c37540ea959e22eeabc79ae4, not prepared here).
# md5 of the test GT: MMOCR's zoo repeats the test-image zip's md5 there, which a
# different file cannot match (it would be re-downloaded on every run and could never
# be used offline); the true value is not published, so the check is skipped (None).
# `data_root` and `cache_path` are defaults; tools/prepare_dataset.py overrides both.
data_root = 'data/icdar2015'
cache_path = 'data/cache'

train_preparer = dict(
    obtainer=dict(
        type='NaiveDataObtainer',
        cache_path=cache_path,
        files=[
            dict(
                url='https://rrc.cvc.uab.es/downloads/'
                'ch4_training_word_images_gt.zip',
                save_name='ic15_textrecog_train_img_gt.zip',
                md5='600caf8c6a64a3dcf638839820edcca9',
                content=['image', 'annotation'],
                mapping=[['ic15_textrecog_train_img_gt/gt.txt', 'annotations/train.txt'],
                         ['ic15_textrecog_train_img_gt', 'textrecog_imgs/train']]),
        ]),
    gatherer=dict(type='MonoGatherer', ann_name='train.txt'),
    parser=dict(type='ICDARTxtTextRecogAnnParser', encoding='utf-8-sig'),
    packer=dict(type='TextRecogPacker'),
    dumper=dict(type='JsonDumper'))

test_preparer = dict(
    obtainer=dict(
        type='NaiveDataObtainer',
        cache_path=cache_path,
        files=[
            dict(
                url='https://rrc.cvc.uab.es/downloads/ch4_test_word_images_gt.zip',
                save_name='ic15_textrecog_test_img.zip',
                md5='d7a71585f4cc69f89edbe534e7706d5d',
                content=['image'],
                mapping=[['ic15_textrecog_test_img', 'textrecog_imgs/test']]),
            dict(
                url='https://rrc.cvc.uab.es/downloads/Challenge4_Test_Task3_GT.txt',
                save_name='ic15_textrecog_test_gt.txt',
                md5=None,
                content=['annotation'],
                mapping=[['ic15_textrecog_test_gt.txt', 'annotations/test.txt']]),
        ]),
    gatherer=dict(type='MonoGatherer', ann_name='test.txt'),
    parser=dict(type='ICDARTxtTextRecogAnnParser', encoding='utf-8-sig'),
    packer=dict(type='TextRecogPacker'),
    dumper=dict(type='JsonDumper'))

delete = ['annotations', 'ic15_textrecog_train_img_gt', 'ic15_textrecog_test_img']
config_generator = dict(type='TextRecogConfigGenerator')
